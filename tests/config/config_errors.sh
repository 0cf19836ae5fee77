#!/bin/bash
# config_errors.sh — a malformed config names the file, the line, the key and
# what was expected, and the app exits non-zero; the shipped
# config/dptcp.ini loads. No network: the app stops after --print-config.
# Usage: config_errors.sh PATH/TO/dptcp-echo PATH/TO/config/dptcp.ini
set -u
APP=$1
SHIPPED=$2
TMP=$(mktemp -d /tmp/dpt-cfg.XXXXXX)
trap 'rm -rf "$TMP" "/var/run/dpdk/dpt-cfg-$$"' EXIT
fails=0

# run FILE: prints the app's own messages (EAL lines dropped), sets $rc.
run() {
	"$APP" --no-huge -m 512 --no-pci --no-shconf --no-telemetry -l 0 \
		--file-prefix "dpt-cfg-$$" --log-level='lib.*:error' -- \
		--ip 10.0.0.1/24 --port 7 --config "$1" --print-config \
		>"$TMP/out" 2>&1
	rc=$?
	out=$(grep -v '^EAL\|^TELEMETRY' "$TMP/out")
}

# expect_error NAME CONTENT PATTERN...: the file fails with every pattern.
expect_error() {
	local name=$1 content=$2 f=$TMP/$1.ini p
	shift 2
	printf '%b' "$content" >"$f"
	run "$f"
	if [[ $rc == 0 ]]; then
		echo "FAIL $name: exit status 0, expected non-zero"; fails=$((fails + 1))
		return
	fi
	for p in "$f" "$@"; do
		if ! grep -qF -- "$p" <<<"$out"; then
			echo "FAIL $name: message lacks '$p': $out"; fails=$((fails + 1))
			return
		fi
	done
	echo "ok   $name: $out"
}

expect_error unknown_key '[tcp]\nmsl_ms = 1000\nbogus_key = 3\n' ':3:' bogus_key
expect_error not_a_number '[tcp]\n; a comment\nmsl_ms = abc\n' ':3:' msl_ms 'expected'
expect_error out_of_range '[port]\nmtu = 99999\n' ':2:' mtu '576..9000'
expect_error negative '[tcp]\n\nbacklog = -1\n' ':3:' backlog 'expected'
expect_error bad_ip '[net]\nip = 10.0.0.300/24\n' ':2:' ip 'expected'
expect_error bad_cc_word '[tcp]\nmsl_ms = 5\ncc = vegas\n' ':3:' cc 'vegas' 'cubic' 'newreno'
expect_error bad_tlp '[tcp]\ntlp = 2\n' ':2:' tlp '0..1'
expect_error unknown_section '[tcp]\nmsl_ms = 5\n[nosuch]\nx = 1\n' ':3:' nosuch

run "$TMP/does-not-exist.ini"
if [[ $rc == 0 ]] || ! grep -qF "$TMP/does-not-exist.ini" <<<"$out"; then
	echo "FAIL missing_file: rc=$rc: $out"; fails=$((fails + 1))
else
	echo "ok   missing_file: $out"
fi

run "$SHIPPED"
if [[ $rc != 0 ]] || ! grep -q '^msl_ms = 30000$' <<<"$out"; then
	echo "FAIL shipped config/dptcp.ini: rc=$rc: $out"; fails=$((fails + 1))
else
	echo "ok   shipped config/dptcp.ini loads (msl_ms = 30000)"
fi

if ! grep -q '^cc = cubic$' <<<"$out"; then
	echo "FAIL default cc: expected 'cc = cubic': $out"; fails=$((fails + 1))
else
	echo "ok   default cc = cubic"
fi

printf '[tcp]\ncc = newreno\n' >"$TMP/newreno.ini"
run "$TMP/newreno.ini"
if [[ $rc != 0 ]] || ! grep -q '^cc = newreno$' <<<"$out"; then
	echo "FAIL cc = newreno: rc=$rc: $out"; fails=$((fails + 1))
else
	echo "ok   cc = newreno parsed"
fi

[[ $fails == 0 ]] || { echo "$fails case(s) failed"; exit 1; }
