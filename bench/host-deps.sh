#!/bin/sh
# SPDX-License-Identifier: MIT
# Check the host tools the bench needs; install missing ones from Debian's
# archive by package name, or stop with one line saying what to install.
set -eu
. "$(dirname "$0")/lib.sh"
phase_t0=$(now)

# command:package pairs
need="make:make gcc:gcc ld:binutils flex:flex bison:bison bc:bc perl:perl
cpio:cpio xz:xz-utils zstd:zstd rsync:rsync ccache:ccache depmod:kmod
mmdebstrap:mmdebstrap qemu-system-x86_64:qemu-system-x86 jq:jq
git:git dpkg-deb:dpkg sha256sum:coreutils timeout:coreutils
apt-get:apt pahole:dwarves openssl:openssl curl:curl mke2fs:e2fsprogs
unshare:util-linux"
# headers: file:package
headers="/usr/include/libelf.h:libelf-dev /usr/include/openssl/ssl.h:libssl-dev"

missing=""
# (mke2fs and depmod live in sbin, which a user's PATH may lack; the
# scripts that run them add it too)
PATH=$PATH:/usr/sbin:/sbin
for pair in $need; do
	command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
done
for pair in $headers; do
	[ -e "${pair%%:*}" ] || missing="$missing ${pair#*:}"
done
[ -e /usr/share/keyrings/debian-archive-keyring.gpg ] ||
	missing="$missing debian-archive-keyring"
missing=$(printf '%s\n' $missing | sort -u | tr '\n' ' ')
if [ -z "${missing% }" ]; then
	phase "host tools" "$phase_t0"
	exit 0
fi

mkdir -p "$BENCH_CACHE"
say "host tools: installing missing packages: $missing"
if [ "$(id -u)" -ne 0 ] ||
   ! { DEBIAN_FRONTEND=noninteractive apt-get -q update >/dev/null 2>&1 &&
       DEBIAN_FRONTEND=noninteractive apt-get -q -y --no-install-recommends \
		install $missing >"$BENCH_CACHE/apt-install.log" 2>&1; }; then
	die "missing host packages; install them with: apt-get install $missing"
fi
phase "host tools" "$phase_t0"
