#!/usr/bin/env bash
# Make the container tests runnable on a CI machine: a Docker engine, a local Debian base image
# (no registry is reachable) and the project's Spark Connect image. Idempotent: what exists
# (a running engine, the base image, an up-to-date build cache) is reused.
#
#   docker/ci-engine.sh            # prints the seconds each stage took
#
# Needs root on Debian to install and start an engine; elsewhere it uses the engine that
# answers `docker info`, or exits 1 saying what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${LAKEFLOW_IMAGE:-lakeflow-connect:ci}
BASE=${LAKEFLOW_BASE_IMAGE:-local/debian:bookworm}
CACHE=${LAKEFLOW_CI_CACHE:-/var/cache/lakeflow-ci}
PY=${PYTHON:-.venv/bin/python}

stage_start=$SECONDS
stage() {
  echo "[ci-engine] $1 done in $((SECONDS - stage_start)) s"
  stage_start=$SECONDS
}

# 1. an engine
if ! docker info >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ] || [ ! -f /etc/debian_version ]; then
    echo "[ci-engine] no Docker engine answers and this is not Debian as root: install and start one" >&2
    exit 1
  fi
  if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends docker.io debootstrap iptables >/dev/null
  fi
  mkdir -p "$CACHE"
  nohup dockerd >"$CACHE/dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { echo "[ci-engine] dockerd did not start; see $CACHE/dockerd.log" >&2; exit 1; }
fi
stage "engine ($(docker version --format '{{.Server.Version}}') , $(docker info --format '{{.Driver}}'))"

# 2. a base image made from Debian's packages
if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  command -v debootstrap >/dev/null || { apt-get update -qq; apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; }
  mirror=$( (grep -hoE '^(URIs:|deb) +https?://[^ ]+' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true) \
           | grep -v security | head -1 | awk '{print $2}')
  rootfs="$CACHE/rootfs-bookworm"
  rm -rf "$rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" "${mirror:-http://deb.debian.org/debian}" >"$CACHE/debootstrap.log" 2>&1 \
    || { echo "[ci-engine] debootstrap failed; see $CACHE/debootstrap.log" >&2; exit 1; }
  tar -C "$rootfs" -c . | docker import - "$BASE" >/dev/null
  rm -rf "$rootfs"
fi
stage "base image $BASE"

# 3. build inputs: this machine's extra CA certificates (its HTTPS egress is intercepted) and
#    the pyspark wheel pip already built from the 456 MB sdist (from pip's cache when present)
find docker/certs -name '*.crt' -delete
cp /usr/local/share/ca-certificates/*.crt docker/certs/ 2>/dev/null || true
pyspark=$(grep -oE '"pyspark\[connect\]==[^"]+"' pyproject.toml | grep -oE '[0-9][^"]*')
if ! ls docker/wheels/pyspark-"$pyspark"-*.whl >/dev/null 2>&1; then
  "$PY" -m pip wheel --quiet --no-deps "pyspark==$pyspark" -w docker/wheels
fi
stage "build inputs (CA certificates, pyspark $pyspark wheel)"

# 4. the project image
docker build --quiet --build-arg BASE="$BASE" -f docker/Dockerfile -t "$IMAGE" . >"$CACHE/build.log" 2>&1 \
  || { tail -40 "$CACHE/build.log" >&2; echo "[ci-engine] docker build failed; see $CACHE/build.log" >&2; exit 1; }
stage "image $IMAGE ($(docker image inspect "$IMAGE" --format '{{.Size}}' | awk '{printf "%.2f GB", $1/1e9}'))"
