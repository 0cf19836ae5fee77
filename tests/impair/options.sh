#!/bin/bash
# impair_options: dptcp-impair parses its options strictly — a bad value is
# refused with a message naming the option and exit status 2, before any
# socket is opened (so this needs neither root nor a network).
set -uo pipefail
BIN=${1:?usage: options.sh DPTCP-IMPAIR}
[[ -x $BIN ]] || { echo "FAIL: '$BIN' is not built" >&2; exit 1; }
fails=0

# expect_bad OPTION-NAME ARGS...: exit 2 and a message naming OPTION-NAME.
expect_bad() {
	local name=$1 out rc
	shift
	out=$("$BIN" "$@" 2>&1 >/dev/null)
	rc=$?
	if ((rc != 2)) || ! grep -q -- "$name" <<<"$out"; then
		echo "FAIL: '$*' -> exit $rc, message '$out' (expected 2 naming $name)" >&2
		fails=$((fails + 1))
	else
		echo "ok: $* -> $out"
	fi
}

I=(-a x0 -b x1)
expect_bad --loss "${I[@]}" --loss 1.5
expect_bad --loss "${I[@]}" --loss abc
expect_bad --loss "${I[@]}" --loss ''
expect_bad --loss "${I[@]}" --loss 0.2x
expect_bad --dup "${I[@]}" --dup -0.1
expect_bad --corrupt "${I[@]}" --corrupt nan
expect_bad --reorder "${I[@]}" --reorder 2
expect_bad --delay-ms "${I[@]}" --delay-ms -1
expect_bad --jitter-ms "${I[@]}" --jitter-ms inf
expect_bad --rate-mbit "${I[@]}" --rate-mbit fast
expect_bad --reorder-gap "${I[@]}" --reorder-gap 0
expect_bad --reorder-gap "${I[@]}" --reorder-gap 1.5
expect_bad --limit "${I[@]}" --limit 0
expect_bad --limit "${I[@]}" --limit -5
expect_bad --seed "${I[@]}" --seed -1
expect_bad --seed "${I[@]}" --seed 99999999999999999999999
expect_bad --dir "${I[@]}" --dir up --loss 0.1
expect_bad "--delay-ms" "${I[@]}" --delay-ms
expect_bad "--bogus" "${I[@]}" --bogus 1
expect_bad "-b IFACE" -a x0 --loss 0.1
expect_bad "same interface" -a x0 -b x0
expect_bad "unexpected argument" "${I[@]}" extra

if ! out=$("$BIN" --help) || ! grep -q -- '--reorder-gap' <<<"$out"; then
	echo "FAIL: --help" >&2
	fails=$((fails + 1))
fi

# Valid options reach the socket stage: a missing interface is a runtime
# error (exit 1), never a usage error.
out=$("$BIN" -a dpti-none-a -b dpti-none-b --dir ab --loss 0.5 --seed 0x10 2>&1)
rc=$?
if ((rc != 1)) || ! grep -q 'no interface dpti-none-a' <<<"$out"; then
	echo "FAIL: valid options: exit $rc, '$out' (expected 1, no interface)" >&2
	fails=$((fails + 1))
fi

((fails == 0)) || { echo "FAIL: $fails case(s)" >&2; exit 1; }
echo PASS
