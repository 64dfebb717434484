#!/bin/sh
# A trial in another language: reports through stdout lines.
for arg in "$@"; do
  case "$arg" in --x=*) x="${arg#--x=}" ;; esac
done
echo "metaopt: step=0 score=$x"
echo "some unrelated output"
echo "metaopt: score=$x extra=1"
