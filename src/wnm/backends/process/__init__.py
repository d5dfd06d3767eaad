"""Process managers: systemd, setsid, launchd, docker and antctl, behind one small base class."""
