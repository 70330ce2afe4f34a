#!/bin/sh
# SPDX-License-Identifier: MIT
# Private apt configuration for the bench: sid and trixie-backports indexes
# live under the cache, the host's apt setup is never touched.
# Usage: apt-private.sh CACHE_DIR apt-get|apt-cache ARGS...
set -eu
cache=$1
shift
dir=$cache/apt
mkdir -p "$dir/lists/partial" "$dir/archives/partial" "$dir/etc/preferences.d" \
	"$dir/etc/apt.conf.d"
. "$(dirname "$0")/lib.sh"
mirror=$(debian_mirror) || exit 1
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
cat > "$dir/etc/sources.list.new" <<SRC
deb [signed-by=$keyring] $mirror sid main
deb [signed-by=$keyring] $mirror trixie-backports main
SRC
mv "$dir/etc/sources.list.new" "$dir/etc/sources.list"
: > "$dir/status"
tool=$1
shift
exec "$tool" \
	-o Dir::Etc::sourcelist="$dir/etc/sources.list" \
	-o Dir::Etc::sourceparts="-" \
	-o Dir::Etc::preferencesparts="$dir/etc/preferences.d" \
	-o Dir::Etc::parts="$dir/etc/apt.conf.d" \
	-o Dir::State::Lists="$dir/lists" \
	-o Dir::State::status="$dir/status" \
	-o Dir::Cache="$dir" \
	-o Dir::Cache::archives="$dir/archives" \
	-o APT::Architecture=amd64 \
	-o Acquire::Languages=none \
	-o Acquire::Check-Valid-Until=false \
	-o Debug::NoLocking=true \
	-o APT::Sandbox::User=root \
	"$@"
