"""Building the node image from the repository's ``docker/`` directory.

Used by the tests and by the operator command that prepares a docker host. The base image is a
build argument (``BASE_IMAGE``) so hosts without a registry can build on a locally imported one.
"""

from __future__ import annotations

from typing import Any

from wnm.backends.process.docker_api import docker_sdk
from wnm.errors import PermanentFailure

BUILD_TIMEOUT = 600.0


def build_image(client: Any, context_dir: str, tag: str, base_image: str) -> str:
    """Build ``tag`` from ``context_dir`` on ``base_image`` and return the image id.

    ``client`` is a ``docker.DockerClient``. The base is never pulled (``pull=False``): it must
    exist locally or in a registry the daemon is configured for. Raises PermanentFailure with the
    builder's last output lines when the build fails.
    """
    docker = docker_sdk()
    try:
        image, _logs = client.images.build(
            path=context_dir,
            tag=tag,
            buildargs={"BASE_IMAGE": base_image},
            pull=False,
            rm=True,
            forcerm=True,
            timeout=BUILD_TIMEOUT,
        )
    except docker.errors.BuildError as exc:
        lines = [str(entry.get("stream", entry.get("error", ""))).strip() for entry in exc.build_log]
        detail = " | ".join(line for line in lines if line)[-800:]
        raise PermanentFailure(f"building {tag} from {context_dir} on {base_image} failed: {detail}") from exc
    except docker.errors.APIError as exc:
        raise PermanentFailure(f"building {tag} from {context_dir} failed: {exc.explanation or exc}") from exc
    return str(image.id)
