#!/bin/bash
# dptcp.sh — the two things a newcomer runs (as root, Debian 12):
#   ./dptcp.sh demo   install what is missing, build, show dptcp talking to Linux
#   ./dptcp.sh test   install what is missing, build, run every test suite;
#                     the last line is "N passed, N failed" (exit 0 only if
#                     nothing failed; a skipped test counts as failed)
# and two steps of those on their own: ./dptcp.sh deps, ./dptcp.sh build.
# Build directory: build/ (DPTCP_BUILD_DIR overrides).
# shellcheck disable=SC2031 # the demo runs in a subshell on purpose
set -uo pipefail
cd "$(dirname "$(readlink -f "$0")")" || exit 1
BUILD=${DPTCP_BUILD_DIR:-build}
PY=/usr/bin/python3

# What each package is for: README.md, "Dependencies".
PKGS=(gcc g++ libdpdk-dev dpdk-dev meson ninja-build pkg-config
	libbenchmark-dev python3 python3-scapy iperf3 tcpdump tshark
	iproute2 iputils-ping ethtool iptables curl gnuplot-nox
	redis-server redis-tools nginx wrk sockperf)
# Packages whose install may start a system service: the tests start their
# own (own config, temp dir, 10.x addresses), so the service must not run.
SERVICES=(redis-server nginx)

say() { printf '==> %s\n' "$*"; }

deps() {
	local p missing=()
	for p in "${PKGS[@]}"; do
		[[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) == installed ]] ||
			missing+=("$p")
	done
	if ((${#missing[@]} == 0)); then
		say "packages: all ${#PKGS[@]} present"
		return 0
	fi
	say "packages: installing ${missing[*]}"
	if [[ $(id -u) != 0 ]]; then
		echo "dptcp.sh: installing packages needs root" >&2
		return 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q &&
		apt-get install -y -q --no-install-recommends "${missing[@]}" ||
		return 1
	stop_services "${missing[@]}"
}

# stop_services PKG...: stop and disable the services of SERVICES that this
# install brought (never one that was there before).
stop_services() {
	local p s
	for p in "$@"; do
		for s in "${SERVICES[@]}"; do
			[[ $p == "$s" ]] || continue
			say "stopping and disabling the $s service (the tests run their own)"
			if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
				systemctl disable --now "$s" >/dev/null 2>&1 || true
			else
				service "$s" stop >/dev/null 2>&1 || true
			fi
		done
	done
	return 0
}

build() {
	if [[ ! -f $BUILD/build.ninja ]]; then
		say "meson setup $BUILD"
		meson setup "$BUILD" || return 1
	fi
	say "ninja -C $BUILD"
	ninja -C "$BUILD"
}

# Count meson's results in testlog.json. OK and EXPECTEDFAIL pass; FAIL,
# TIMEOUT, ERROR, UNEXPECTEDPASS and SKIP fail (no silent skips).
count_results() {
	"$PY" - "$1" <<'EOF'
import json, sys
passed, failed = 0, []
with open(sys.argv[1]) as f:
    for line in f:
        if not line.strip():
            continue
        t = json.loads(line)
        if t.get("result") in ("OK", "EXPECTEDFAIL"):
            passed += 1
        else:
            failed.append("%s (%s)" % (t.get("name"), t.get("result")))
for name in failed:
    print("failed: %s" % name)
print("%d passed, %d failed" % (passed, len(failed)))
sys.exit(1 if failed or not passed else 0)
EOF
}

run_tests() {
	local log="$BUILD/meson-logs/testlog.json"
	if ! deps || ! build; then
		echo "dptcp.sh: install or build failed, no test ran (counted as one failure)"
		echo "0 passed, 1 failed"
		return 1
	fi
	rm -f "$log"
	say "meson test -C $BUILD (unit, interop, and every other suite)"
	meson test -C "$BUILD" --no-rebuild --print-errorlogs
	if [[ ! -s $log ]]; then
		echo "dptcp.sh: meson wrote no test log (counted as one failure)"
		echo "0 passed, 1 failed"
		return 1
	fi
	count_results "$log"
}

# ------------------------------------------------------------------ demo

demo() {
	deps || return 1
	build || return 1
	local http="$BUILD/apps/dptcp-http" echo_app="$BUILD/apps/dptcp-echo"
	local f
	for f in "$http" "$echo_app"; do
		[[ -x $f ]] || { echo "dptcp.sh: $f was not built" >&2; return 1; }
	done
	(
		set -euo pipefail
		# shellcheck source=tests/interop/lib.sh
		. tests/interop/lib.sh
		demo_body "$(readlink -f "$http")" "$(readlink -f "$echo_app")"
	)
}

demo_body() {
	local http=$1 echo_app=$2 msl_ms=5000
	dpt_init demo
	cat >"$DPT_TMP/demo.ini" <<-INI
	; the demo's config: a short MSL so TIME_WAIT ends while you watch
	[tcp]
	msl_ms = $msl_ms
	INI

	say "1. A private network: two namespaces joined by veth pairs"
	dpt_net_up 1500 0
	local http_ip=$DP_IP http_prefix=$DPT_FILE_PREFIX http_peer=$PEER_IP
	dpt_net_up 1500 1
	local echo_ip=$DP_IP echo_prefix=$DPT_FILE_PREFIX
	echo "    Linux (namespace $NS_PEER) has $http_peer and $PEER_IP;"
	echo "    dptcp drives the other ends (namespace $NS_DP) through net_af_packet."

	say "2. Start dptcp-http on $http_ip:80 (lcore 0) and dptcp-echo on $echo_ip:7 (lcore 1)"
	dpt_link_names 0
	dpt_start_app "$http" 80 "$DPT_TMP/demo.ini" 0
	dpt_link_names 1
	dpt_start_app "$echo_app" 7 "" 1

	say "3. ping dptcp from Linux"
	dpt_peer ping -c 3 -W 5 "$http_ip" | sed 's/^/    /'

	say "4. curl: three GETs on one keep-alive connection"
	dpt_peer curl -sS --max-time 30 -o /dev/null -o /dev/null -o /dev/null \
		-w '    GET %{url_effective} -> %{http_code}, %{size_download} bytes, new connections: %{num_connects}\n' \
		"http://$http_ip/16" "http://$http_ip/1000" "http://$http_ip/100000"
	echo "    (new connections: 0 = the request reused the first connection)"
	echo "    body of GET /16: $(dpt_peer curl -sS --max-time 30 "http://$http_ip/16" | od -An -c | tr -s ' ' | head -c 80)"

	say "5. curl: GET /64 with 'Connection: close' (dptcp closes first, so dptcp goes through TIME_WAIT)"
	dpt_peer curl -sS --max-time 30 -o /dev/null -H 'Connection: close' \
		-w '    GET %{url_effective} -> %{http_code}, %{size_download} bytes\n' "http://$http_ip/64"

	say "6. Python (Linux sockets) echo round trip with dptcp-echo"
	dpt_py - "$echo_ip" 7 <<-'PY'
	import socket, sys
	s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
	msg = b"hello, dptcp! " * 1000
	s.sendall(msg)
	s.shutdown(socket.SHUT_WR)          # half-close: dptcp echoes the rest, then closes
	got = b""
	while True:
	    b = s.recv(65536)
	    if not b:
	        break
	    got += b
	s.close()
	print("    sent %d bytes, half-closed, got back %d bytes, %s, then EOF"
	      % (len(msg), len(got), "identical" if got == msg else "DIFFERENT"))
	sys.exit(0 if got == msg else 1)
	PY

	say "7. Linux's view: ss -tan in namespace $NS_PEER"
	dpt_peer ss -tan | sed 's/^/    /'
	echo "    TIME-WAIT here = Linux closed first (the curls without Connection: close, the Python half-close);"
	echo "    the 'Connection: close' GET is absent: dptcp took the TIME_WAIT."

	say "8. dptcp's view: echo /dptcp/conns | dpdk-telemetry.py -f $http_prefix"
	demo_tel "$http_prefix" /dptcp/conns
	echo "    counts per state: $("$PY" "$DPT_LIB_DIR/dptlib.py" conns "$http_prefix" | awk '$2 != 0 {printf "%s=%s ", $1, $2}')"
	say "   and /dptcp/stats of dptcp-echo (-f $echo_prefix)"
	demo_tel "$echo_prefix" /dptcp/stats

	say "9. After 2*MSL ($((2 * msl_ms)) ms from [tcp] msl_ms = $msl_ms) dptcp-http's TIME_WAIT is over"
	echo "    counts per state: $("$PY" "$DPT_LIB_DIR/dptlib.py" wait-no-conns "$http_prefix" 60)"

	say "10. Clean up: stop both apps, delete the namespaces"
	DPT_DONE_MSG="demo finished; apps stopped, namespaces deleted"
}

# dpdk-telemetry.py (run by Debian's Python); values that are 0 left out.
demo_tel() {
	echo "$2" | "$PY" /usr/bin/dpdk-telemetry.py -f "$1" | "$PY" -c '
import json, sys
for line in sys.stdin:
    for cmd, v in json.loads(line).items():
        if isinstance(v, dict):
            v = {k: x for k, x in v.items() if x != 0}
        print("    %s (zeros left out):" % cmd)
        print("\n".join("      " + l for l in json.dumps(v, indent=2).splitlines()))
'
}

case ${1:-} in
deps) deps ;;
build) deps && build ;;
test) run_tests ;;
demo) demo ;;
*)
	sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac
