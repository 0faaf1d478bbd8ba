#!/bin/sh
# Regenerates the OpenAPI spec in docs/ from the swag annotations of the
# server package: docs.go (swag's template, which the server merges with the
# operations' schemas at run time) and swagger.json (the same merge, as
# /docs/doc.json serves it: scripts/mergespec).
#
#   scripts/swag.sh          regenerate docs/
#   scripts/swag.sh check    fail (naming the file) when docs/ is not what
#                            the annotations generate: for CI
#
# The swag version is pinned to go.mod's github.com/swaggo/swag.
set -eu
cd "$(dirname "$0")/.."

SWAG_VERSION=v1.16.6

generate() {
	go run "github.com/swaggo/swag/cmd/swag@$SWAG_VERSION" init --quiet \
		--generalInfo server.go --dir ./server,./plugins,./queue \
		--output "$1" --packageName docs --outputTypes go,json
	gofmt -w "$1/docs.go"
	go run ./scripts/mergespec "$1/swagger.json"
}

case "${1:-generate}" in
generate)
	generate docs
	;;
check)
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	generate "$tmp"
	status=0
	for f in docs.go swagger.json; do
		if ! diff -u "docs/$f" "$tmp/$f"; then
			echo "docs/$f is out of date with the annotations in server/: run scripts/swag.sh and commit docs/" >&2
			status=1
		fi
	done
	exit $status
	;;
*)
	echo "usage: scripts/swag.sh [generate|check]" >&2
	exit 2
	;;
esac
