#!/bin/sh
# wnm-supervisor: keeps several Autonomi nodes running inside ONE container.
#
# wnm runs a container in this "group" mode when max_node_per_container > 1. A container with a
# single node does not use this script: its command is the node itself and docker's restart
# policy brings it back after an exit (e.g. exit 0 after a self-upgrade).
#
# Written in POSIX sh so the image works on a busybox base as well as on Debian (dash).
#
# Protocol (a plain-file control directory, bind-mounted at the same path on the host, so wnm can
# read states without any docker API call). $WNM_CONTROL_DIR/<node name>/ holds:
#
#   written by wnm (atomically: temp file + rename)
#     argv          the node's command line, one argument per line (first line = program)
#     env           optional extra environment, one KEY=VALUE per line
#     want          "run" or "stop": the state wnm asks for
#     stop_timeout  optional: seconds between SIGTERM and SIGKILL when stopping (default 30)
#   written by this script
#     state         "running <pid> <started epoch>" | "backoff <exit code> <epoch>" |
#                   "stopped <exit code or ->"   (pids are pids inside the container)
#     restarts      how many times this script restarted the node after it exited
#     output        stdout+stderr of the node's current (or last) run
#   $WNM_CONTROL_DIR/.ready   "<pid> <epoch>" once this script has set up its signal traps
#
# Signals: SIGHUP = "re-read the control files now" (otherwise they are polled every
# $WNM_POLL_SECONDS, default 1). SIGTERM/SIGINT = stop every node (SIGTERM, SIGKILL after
# $WNM_STOP_GRACE seconds, default 20) and exit; "want" files are kept, so the nodes wanted
# running come back when the container starts again.
#
# A node that exits while wanted is restarted (exit 0 after a self-upgrade included) after a
# delay of 1 s, doubled on each quick exit (ran < 10 s) up to 60 s.

set -u

CTL=${WNM_CONTROL_DIR:?WNM_CONTROL_DIR must name the control directory}
POLL=${WNM_POLL_SECONDS:-1}
GRACE=${WNM_STOP_GRACE:-20}

log() {
    echo "wnm-supervisor: $*" >&2
}

# put FILE WORDS...: replace FILE's content atomically.
put() {
    _f=$1
    shift
    printf '%s\n' "$*" >"$_f.tmp.$$" 2>/dev/null && mv -f "$_f.tmp.$$" "$_f" 2>/dev/null
}

# first_line FILE: print FILE's first line, nothing when it is missing.
first_line() {
    _v=
    [ -f "$1" ] && IFS= read -r _v <"$1"
    printf '%s' "$_v"
}

now() {
    date +%s
}

# spawn DIR: replace this (background) subshell by the node, so that $! is the node's pid.
spawn() {
    _node_dir=$1
    set --
    while IFS= read -r _a || [ -n "$_a" ]; do
        set -- "$@" "$_a"
    done <"$_node_dir/argv"
    if [ -f "$_node_dir/env" ]; then
        while IFS= read -r _kv || [ -n "$_kv" ]; do
            case $_kv in
            *=*) export "$_kv" ;;
            esac
        done <"$_node_dir/env"
    fi
    exec "$@" >"$_node_dir/output" 2>&1
}

# wanted DIR: whether the node should be running now.
wanted() {
    [ ! -f "$CTL/.stopping" ] && [ -f "$1/argv" ] && [ "$(first_line "$1/want")" = run ]
}

# monitor DIR: run in the background; runs the node while it is wanted, restarting it on exit.
monitor() {
    _dir=$1
    _restarts=$(first_line "$_dir/restarts")
    _restarts=${_restarts:-0}
    _delay=1
    _code=-
    while wanted "$_dir"; do
        _started=$(now)
        spawn "$_dir" &
        _pid=$!
        put "$_dir/state" "running $_pid $_started"
        wait "$_pid"
        _code=$?
        wanted "$_dir" || break
        _restarts=$((_restarts + 1))
        put "$_dir/restarts" "$_restarts"
        [ $(($(now) - _started)) -ge 10 ] && _delay=1
        put "$_dir/state" "backoff $_code $(now)"
        log "node $(basename "$_dir") exited with $_code; restarting in ${_delay}s"
        _left=$_delay
        while [ "$_left" -gt 0 ] && wanted "$_dir"; do
            sleep 1
            _left=$((_left - 1))
        done
        _delay=$((_delay * 2))
        [ "$_delay" -gt 60 ] && _delay=60
    done
    put "$_dir/state" "stopped $_code"
}

# node_pid DIR: the pid from a "running" state, nothing otherwise.
node_pid() {
    set -- $(first_line "$1/state")
    [ "${1:-}" = running ] && printf '%s' "${2:-}"
}

# var_name NAME: the node name made safe for use inside a shell variable name.
var_name() {
    printf '%s' "$1" | tr -c 'A-Za-z0-9_' '_'
}

reconcile() {
    for _d in "$CTL"/*/; do
        _d=${_d%/}
        [ -f "$_d/want" ] || continue
        _v=$(var_name "$(basename "$_d")")
        eval "_mon=\${mon_$_v:-}"
        if [ "$(first_line "$_d/want")" = run ]; then
            eval "unset term_$_v"
            if [ -z "$_mon" ] || ! kill -0 "$_mon" 2>/dev/null; then
                monitor "$_d" &
                eval "mon_$_v=$!"
            fi
            continue
        fi
        _pid=$(node_pid "$_d")
        if [ -z "$_pid" ]; then
            eval "unset term_$_v"
            continue
        fi
        eval "_since=\${term_$_v:-}"
        if [ -z "$_since" ]; then
            kill -TERM "$_pid" 2>/dev/null
            eval "term_$_v=$(now)"
        else
            _timeout=$(first_line "$_d/stop_timeout")
            if [ $(($(now) - _since)) -ge "${_timeout:-30}" ]; then
                kill -KILL "$_pid" 2>/dev/null
            fi
        fi
    done
}

shutdown() {
    trap '' HUP TERM INT
    log "stopping all nodes"
    [ -n "${sleeper:-}" ] && kill "$sleeper" 2>/dev/null
    # Monitors see this flag and record their node's exit instead of restarting it.
    put "$CTL/.stopping" "$(now)"
    _pids=
    _mons=
    for _d in "$CTL"/*/; do
        _d=${_d%/}
        [ -f "$_d/want" ] || continue
        _v=$(var_name "$(basename "$_d")")
        eval "_mon=\${mon_$_v:-}"
        [ -n "$_mon" ] && _mons="$_mons $_mon"
        _pid=$(node_pid "$_d")
        [ -n "$_pid" ] && _pids="$_pids $_pid"
    done
    for _p in $_pids; do
        kill -TERM "$_p" 2>/dev/null
    done
    # The monitors are our children: they end (and are reaped) once their node has exited.
    _end=$(($(now) + GRACE))
    while [ "$(now)" -lt "$_end" ]; do
        _alive=
        for _m in $_mons; do
            kill -0 "$_m" 2>/dev/null && _alive=1
        done
        [ -z "$_alive" ] && break
        sleep 0.1 2>/dev/null || sleep 1
    done
    for _p in $_pids; do
        kill -KILL "$_p" 2>/dev/null
    done
    wait
    rm -f "$CTL/.ready" "$CTL/.stopping"
    exit 0
}

trap 'shutdown' TERM INT
trap 'wake=1' HUP

# Whatever the states say is stale after a (re)start of the container.
rm -f "$CTL/.stopping"
for _d in "$CTL"/*/; do
    _d=${_d%/}
    [ -f "$_d/want" ] || continue
    _last=$(first_line "$_d/state")
    case $_last in
    stopped*) ;;
    *) put "$_d/state" "stopped -" ;;
    esac
done
put "$CTL/.ready" "$$ $(now)"
log "supervising $CTL"

while :; do
    wake=
    reconcile
    [ -n "$wake" ] && continue # nudged while reconciling: go again at once
    sleep "$POLL" &
    sleeper=$!
    [ -n "$wake" ] || wait "$sleeper" 2>/dev/null
    kill "$sleeper" 2>/dev/null # woken early: don't leave the sleep behind
done
