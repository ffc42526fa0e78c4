#!/bin/sh
# Seeds the fuzz corpora from the fixtures: pages for `extract`, the bundled rules for `rule_file`.
# Run from anywhere; corpus/ and artifacts/ are git-ignored.
set -eu
fuzz=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$fuzz")
mkdir -p "$fuzz/corpus/extract" "$fuzz/corpus/rule_file" "$fuzz/artifacts"
find "$root/tests/fixtures/pages" -name '*.html' | while read -r f; do
    cp "$f" "$fuzz/corpus/extract/$(basename "$(dirname "$f")")-$(basename "$f")"
done
cp "$root"/rules/checks/*.toml "$fuzz/corpus/rule_file/"
echo "seeded $(ls "$fuzz/corpus/extract" | wc -l) pages and $(ls "$fuzz/corpus/rule_file" | wc -l) rules"
