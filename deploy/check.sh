#!/usr/bin/env bash
# check.sh: validates deploy/ without a cluster or a Docker engine
# (`make deploy-check`). Each check is skipped, with a note, when its tool is
# missing; any failure makes the script exit non-zero.
#   - docker-compose.yml: `docker-compose config -q`, TURN_SECRET and
#     RECORDING_TOKEN_SECRET required
#   - deploy/k8s/*.yaml: parses; kinds, names, namespace, label selectors,
#     referenced ConfigMaps/Secrets/ports exist
#   - deploy/coturn/*.conf: turnserver starts with each on loopback and
#     opens its listeners (bounded)
#   - deploy/systemd/*.service: systemd-analyze verify
#   - shell scripts: shellcheck
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=deploy/local/lib.sh
. "$here/local/lib.sh"
HD_PROG=deploy-check
cd "$root"

failed=0
ok() { printf 'ok    %s\n' "$*"; }
skip() { printf 'skip  %s\n' "$*"; }
bad() {
	printf 'FAIL  %s\n' "$*"
	failed=1
}
have() { command -v "$1" >/dev/null 2>&1; }

# --- docker-compose.yml -------------------------------------------------------
if have docker-compose; then
	if out=$(TURN_SECRET=deploy-check RECORDING_TOKEN_SECRET=deploy-check JANUS_API_SECRET=deploy-check docker-compose config -q 2>&1); then
		ok "docker-compose.yml parses"
	else
		bad "docker-compose.yml: $out"
	fi
	for secret in TURN_SECRET RECORDING_TOKEN_SECRET; do
		other=TURN_SECRET
		[[ $secret == TURN_SECRET ]] && other=RECORDING_TOKEN_SECRET
		if env -u "$secret" "$other=deploy-check" JANUS_API_SECRET=deploy-check docker-compose config -q >/dev/null 2>&1; then
			bad "docker-compose.yml accepts a missing $secret"
		else
			ok "docker-compose.yml requires $secret"
		fi
	done
	if env -u JANUS_API_SECRET TURN_SECRET=deploy-check RECORDING_TOKEN_SECRET=deploy-check docker-compose config -q >/dev/null 2>&1; then
		bad "docker-compose.yml accepts a missing JANUS_API_SECRET"
	else
		ok "docker-compose.yml requires JANUS_API_SECRET"
	fi
else
	skip "docker-compose.yml (docker-compose not installed)"
fi

# --- Kubernetes manifests -----------------------------------------------------
if have python3 && python3 -c 'import yaml' 2>/dev/null; then
	if python3 - deploy/k8s/*.yaml <<'EOF'; then ok "deploy/k8s/*.yaml consistent"; else bad "deploy/k8s/*.yaml"; fi
import sys, yaml

errors = []
docs = []
for path in sys.argv[1:]:
    try:
        for d in yaml.safe_load_all(open(path)):
            if d is not None:
                docs.append((path, d))
    except yaml.YAMLError as e:
        errors.append(f"{path}: {e}")

def err(path, d, msg):
    errors.append(f"{path}: {d.get('kind')}/{d.get('metadata', {}).get('name')}: {msg}")

names = {(d.get("kind"), d.get("metadata", {}).get("name")) for _, d in docs}
# Created by hand (see secret.example.yaml, coturn.yaml).
external = {("Secret", "huddle-secrets"), ("Secret", "huddle-turn-tls"),
            ("Secret", "huddle-tls"), ("ConfigMap", "coturn-config")}
services = {}
pods = {}
for path, d in docs:
    kind, meta = d.get("kind"), d.get("metadata", {})
    if kind == "Kustomization":
        continue
    if not d.get("apiVersion") or not kind or not meta.get("name"):
        err(path, d, "apiVersion, kind and metadata.name are required")
        continue
    if kind != "Namespace" and meta.get("namespace") != "huddle":
        err(path, d, "metadata.namespace must be huddle")
    if kind in ("Deployment", "StatefulSet", "DaemonSet"):
        spec = d["spec"]
        sel = spec["selector"]["matchLabels"]
        labels = spec["template"]["metadata"]["labels"]
        if any(labels.get(k) != v for k, v in sel.items()):
            err(path, d, "selector does not match the pod template labels")
        pod = spec["template"]["spec"]
        pods[meta["name"]] = (labels, pod)
        vols = {v["name"]: v for v in pod.get("volumes", [])}
        for v in pod.get("volumes", []):
            ref = (("ConfigMap", v["configMap"]["name"]) if "configMap" in v else
                   ("Secret", v["secret"]["secretName"]) if "secret" in v else
                   ("PersistentVolumeClaim", v["persistentVolumeClaim"]["claimName"])
                   if "persistentVolumeClaim" in v else None)
            if ref and ref not in names and ref not in external:
                err(path, d, f"volume {v['name']} refers to unknown {ref}")
        claims = {c["metadata"]["name"] for c in spec.get("volumeClaimTemplates", [])}
        for c in pod["containers"]:
            if not c.get("image"):
                err(path, d, f"container {c['name']} has no image")
            sc = c.get("securityContext", {})
            if sc.get("allowPrivilegeEscalation") is not False:
                err(path, d, f"container {c['name']}: set allowPrivilegeEscalation: false")
            for m in c.get("volumeMounts", []):
                if m["name"] not in vols and m["name"] not in claims:
                    err(path, d, f"mount {m['name']} has no volume")
            for e in c.get("envFrom", []):
                for key, kind2 in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                    if key in e and (kind2, e[key]["name"]) not in names | external:
                        err(path, d, f"envFrom unknown {kind2} {e[key]['name']}")
            for e in c.get("env", []):
                vf = e.get("valueFrom", {})
                for key, kind2 in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                    if key in vf and (kind2, vf[key]["name"]) not in names | external:
                        err(path, d, f"env {e['name']} refers to unknown {kind2} {vf[key]['name']}")
            ports = {p.get("name") for p in c.get("ports", [])} | {p["containerPort"] for p in c.get("ports", [])}
            for probe in ("readinessProbe", "livenessProbe"):
                p = c.get(probe)
                if p is None:
                    err(path, d, f"container {c['name']} has no {probe}")
                    continue
                for h in ("httpGet", "tcpSocket"):
                    if h in p and p[h]["port"] not in ports:
                        err(path, d, f"{probe} port {p[h]['port']} not declared")
    if kind == "Service":
        services[meta["name"]] = (path, d)
    if kind == "Ingress":
        for rule in d["spec"]["rules"]:
            for p in rule["http"]["paths"]:
                svc = p["backend"]["service"]["name"]
                if ("Service", svc) not in names:
                    err(path, d, f"backend Service {svc} missing")
for name, (path, d) in services.items():
    sel = d["spec"]["selector"]
    match = [(labels, pod) for labels, pod in pods.values()
             if all(labels.get(k) == v for k, v in sel.items())]
    if not match:
        err(path, d, "selector matches no workload")
        continue
    declared = {p.get("name") for _, pod in match for c in pod["containers"] for p in c.get("ports", [])}
    for p in d["spec"]["ports"]:
        if isinstance(p.get("targetPort"), str) and p["targetPort"] not in declared:
            err(path, d, f"targetPort {p['targetPort']} not a container port name")
for e in errors:
    print(e, file=sys.stderr)
sys.exit(1 if errors else 0)
EOF
else
	skip "deploy/k8s (python3 with PyYAML not installed)"
fi

# --- coturn -------------------------------------------------------------------
# Starts turnserver with a config on a free loopback port for a few seconds
# (listening-ip forced to 127.0.0.1; TLS on another free port) and looks for
# the listener lines in its verbose log.
check_turn() {
	local conf=$1 dir port tls pid
	dir=$(mktemp -d)
	port=$(hd_pick_port) tls=$(hd_pick_port)
	setsid turnserver -c "$conf" -v --listening-ip=127.0.0.1 --listening-port="$port" \
		--tls-listening-port="$tls" --static-auth-secret=deploy-check \
		--userdb="$dir/turndb" --pidfile="$dir/turnserver.pid" \
		</dev/null >"$dir/log" 2>&1 &
	pid=$!
	if hd_wait_tcp 127.0.0.1 "$port" 10 "$pid" &&
		grep -q "UDP listener opened on: 127.0.0.1:$port" "$dir/log" &&
		! grep -qiE 'bad configuration|unknown option|wrong' "$dir/log"; then
		ok "$conf: turnserver listens on UDP and TCP"
	else
		bad "$conf: turnserver did not start cleanly (log below)"
		tail -n 30 "$dir/log"
	fi
	hd_stop "$pid" turnserver 5 || true
	rm -rf "$dir"
}
if have turnserver; then
	check_turn deploy/coturn/turnserver.conf
	check_turn deploy/coturn/turnserver-local.conf
	# The local file must stay the production file plus loopback changes.
	n=$(diff deploy/coturn/turnserver.conf deploy/coturn/turnserver-local.conf | grep -c '^[<>]' || true)
	if ((n <= 30)); then
		ok "turnserver-local.conf differs from turnserver.conf in $n lines"
	else
		bad "turnserver-local.conf drifted from turnserver.conf ($n changed lines)"
	fi
else
	skip "deploy/coturn (turnserver not installed)"
fi

# --- systemd --------------------------------------------------------------------
if have systemd-analyze; then
	tmp=$(mktemp -d)
	# verify insists the ExecStart binary exists; the daemons are not installed here.
	for unit in deploy/systemd/*.service; do
		sed 's|^ExecStart=.*|ExecStart=/bin/true|' "$unit" >"$tmp/${unit##*/}"
	done
	if out=$(systemd-analyze verify "$tmp"/*.service 2>&1) && [[ -z $out ]]; then
		ok "deploy/systemd/*.service verify"
	else
		bad "deploy/systemd: $out"
	fi
	rm -rf "$tmp"
else
	skip "deploy/systemd (systemd-analyze not installed)"
fi

# --- scripts --------------------------------------------------------------------
if have shellcheck; then
	if shellcheck -x .ci/run deploy/*.sh deploy/local/*.sh; then
		ok "shellcheck"
	else
		bad "shellcheck"
	fi
else
	skip "shellcheck (not installed)"
fi

exit "$failed"
