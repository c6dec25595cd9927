// table.mjs RESULTS.jsonl: the side-by-side table of `make bench` (Markdown),
// one row per measure, Huddle | reference | Huddle/reference.
import { readFileSync } from "node:fs";

const file = process.argv[2];
if (!file) {
	console.error("usage: node table.mjs results.jsonl");
	process.exit(2);
}
const runs = readFileSync(file, "utf8")
	.split("\n")
	.filter((l) => l.startsWith("{"))
	.map((l) => JSON.parse(l));
const find = (label, target) => runs.find((r) => r.label === label && r.target === target);

// Each scenario: a title and its rows [name, unit, value(run), better ("lower"|"higher")].
const lat = (key, p) => (r) => r[key].n > 0 ? r[key][p] : undefined;
// bottleneck: which side ran out of CPU first. The server's event loop and
// each huddle-load thread can use one core at most; SATURATED of a core counts as full.
const SATURATED = 0.9;
const bottleneck = (r) => {
	if (r.server_cpu_first === undefined || r.client_cpu_thread_max === undefined) return undefined;
	const s = r.server_cpu_first >= SATURATED;
	const c = r.client_cpu_thread_max >= SATURATED;
	return s && !c ? "server" : c && !s ? "huddle-load" : s && c ? "both saturated" : "neither (CPU shared?)";
};
const errs = (r) => r.errors.total + r.lost + (r.clients - r.joined);
const scenarios = [
	{
		label: "latency",
		title: (r) => `${r.clients} clients in ${r.meetings} meetings, ${r.rate} relayed msg/s in all (${r.storm_s.toFixed(0)} s)`,
		rows: [
			["relay latency p50", "ms", lat("relay_ms", "p50")],
			["relay latency p90", "ms", lat("relay_ms", "p90")],
			["relay latency p99", "ms", lat("relay_ms", "p99")],
			["relay latency p99.9", "ms", lat("relay_ms", "p999")],
			["relay latency max", "ms", lat("relay_ms", "max")],
			["relayed", "msg/s", (r) => r.relayed_per_s],
			["server CPU during the storm", "% of a core", (r) => r.server_cpu * 100],
			["errors + lost", "", errs],
		],
	},
	{
		label: "throughput",
		title: (r) => `${r.clients} clients in ${r.meetings} meetings, ${r.window} signals in flight per client (${r.storm_s.toFixed(0)} s)`,
		rows: [
			["relayed (max)", "msg/s", (r) => r.relayed_per_s],
			["relay latency p50", "ms", lat("relay_ms", "p50")],
			["relay latency p99", "ms", lat("relay_ms", "p99")],
			["server CPU, all processes", "% of a core", (r) => r.server_cpu * 100],
			["server CPU, gateway / node process", "% of a core", (r) => r.server_cpu_first * 100],
			["huddle-load CPU, all threads", "% of a core", (r) => r.client_cpu * 100],
			["huddle-load CPU, busiest thread", "% of a core", (r) => r.client_cpu_thread_max * 100],
			["huddle-load threads", "", (r) => r.threads],
			["errors + lost", "", errs],
			["the limit", "", bottleneck],
		],
	},
	{
		label: "idle10k",
		title: (r) => `${r.clients} idle clients in ${r.meetings} meetings, joined at ${r.join_rate}/s`,
		rows: [
			["joined", "", (r) => r.joined],
			["RSS per connection, gateway / node process", "KiB", (r) => r.rss_per_conn_kb_first],
			["RSS per connection, all server processes", "KiB", (r) => r.rss_per_conn_kb],
			["server RSS with everyone joined", "MiB", (r) => r.rss_kb_after / 1024],
			["join → join reply p50", "ms", lat("join_ms", "p50")],
			["join → join reply p99", "ms", lat("join_ms", "p99")],
			["errors + lost", "", errs],
		],
	},
	{
		label: "joins",
		title: (r) => `${r.clients} clients joining ${r.meetings} meetings at ${r.join_rate} joins/s`,
		rows: [
			["join → join reply (roster) p50", "ms", lat("join_ms", "p50")],
			["join → join reply (roster) p90", "ms", lat("join_ms", "p90")],
			["join → join reply (roster) p99", "ms", lat("join_ms", "p99")],
			["join → join reply (roster) max", "ms", lat("join_ms", "max")],
			["join → peers notified p50", "ms", lat("peer_notify_ms", "p50")],
			["join → peers notified p99", "ms", lat("peer_notify_ms", "p99")],
			["errors + lost", "", errs],
		],
	},
];

const fmt = (v) => {
	if (v === undefined || v === null || Number.isNaN(v)) return "—";
	if (typeof v === "string") return v;
	if (Number.isInteger(v)) return String(v);
	const a = Math.abs(v);
	return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toFixed(3);
};

const out = [];
out.push("| scenario | measure | Huddle | socket.io reference | Huddle / reference |");
out.push("|---|---|---:|---:|---:|");
for (const s of scenarios) {
	const h = find(s.label, "huddle");
	const r = find(s.label, "socketio");
	if (!h && !r) continue;
	const title = `**${s.label}**: ${s.title(h ?? r)}`;
	let first = true;
	for (const [name, unit, get] of s.rows) {
		const hv = h ? get(h) : undefined;
		const rv = r ? get(r) : undefined;
		const ratio = typeof hv === "number" && typeof rv === "number" && rv !== 0 ? `${(hv / rv).toFixed(2)}×` : "—";
		out.push(`| ${first ? title : ""} | ${name}${unit ? ` (${unit})` : ""} | ${fmt(hv)} | ${fmt(rv)} | ${ratio} |`);
		first = false;
	}
	for (const [t, run] of [["Huddle", h], ["reference", r]]) {
		if (run?.first_error) out.push(`| | first error (${t}) | ${run.first_error} | | |`);
	}
}
console.log(out.join("\n"));
