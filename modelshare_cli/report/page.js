"use strict";
// The report's graph, drawn from the JSON in #report-data: one collapsible section per owner
// account, each an SVG of owner -> groups -> consumers. Only open sections are drawn, so a page of
// thousands of groups stays quick; search and "findings only" filter the groups of every owner.
(function () {
  const NS = "http://www.w3.org/2000/svg"; // the SVG namespace's name, not a fetched address
  const ROW = 24, NODE_H = 18, X_OWNER = 8, X_GROUP = 250, X_CONSUMER = 560, WIDTH = 860;
  const OPEN_ALL_BELOW = 200; // groups in all: fewer, every section opens; more, those with findings
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const owners = new Map();
  for (const grant of data.grants) {
    if (!owners.has(grant.owner)) owners.set(grant.owner, new Map());
    const groups = owners.get(grant.owner);
    if (!groups.has(grant.group)) groups.set(grant.group, []);
    groups.get(grant.group).push(grant);
  }
  const totalGroups = [...owners.values()].reduce((n, groups) => n + groups.size, 0);
  const state = { query: "", findingsOnly: false };

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function svgEl(tag, attrs, text) {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function accessClass(access) {
    if (access.includes("deploy")) return "deploy";
    if (access.includes("register")) return "register";
    return access === "discover" ? "discover" : "custom";
  }
  function groupVisible(owner, group, grants) {
    if (state.findingsOnly && !grants.some((g) => g.finding)) return false;
    if (!state.query) return true;
    const q = state.query;
    return group.toLowerCase().includes(q) || owner.includes(q) || grants.some((g) => g.consumer.toLowerCase().includes(q));
  }
  function node(kind, x, y, label, classes, tooltip) {
    const g = svgEl("g", { class: ["node", kind, ...classes].join(" "), "data-name": label });
    g.appendChild(svgEl("rect", { x: x, y: y - NODE_H / 2, width: 220, height: NODE_H }));
    g.appendChild(svgEl("text", { x: x + 6, y: y }, label.length > 34 ? label.slice(0, 33) + "…" : label));
    g.appendChild(svgEl("title", {}, tooltip || label));
    return g;
  }
  function edge(x1, y1, x2, y2, classes) {
    const mid = (x1 + x2) / 2;
    return svgEl("path", { class: ["edge", ...classes].join(" "), d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}` });
  }

  function draw(section) {
    const owner = section.dataset.owner;
    const groups = [...owners.get(owner)].filter(([group, grants]) => groupVisible(owner, group, grants));
    const consumers = [...new Set(groups.flatMap(([, grants]) => grants.map((g) => g.consumer)))].sort();
    const rows = Math.max(groups.length, consumers.length, 1);
    const svg = svgEl("svg", { class: "graph", width: WIDTH, height: rows * ROW + 8, "data-owner": owner });
    const yOf = (i) => 4 + ROW / 2 + i * ROW;
    const yOwner = yOf((rows - 1) / 2);
    const yConsumer = new Map(consumers.map((c, i) => [c, yOf(i * (rows / consumers.length))]));
    const edges = svgEl("g", {}), nodes = svgEl("g", {});
    groups.forEach(([group, grants], i) => {
      const y = yOf(i * (rows / groups.length));
      const bad = grants.some((g) => g.finding);
      edges.appendChild(edge(X_OWNER + 220, yOwner, X_GROUP, y, ["owner-edge"]));
      for (const grant of grants) {
        const classes = [accessClass(grant.access)];
        if (grant.finding) classes.push("finding");
        if (grant.accepted === "invitation pending") classes.push("pending");
        const line = edge(X_GROUP + 220, y, X_CONSUMER, yConsumer.get(grant.consumer), classes);
        line.appendChild(svgEl("title", {}, `${group} -> ${grant.consumer}: ${grant.access} by ${grant.via} ` +
          `${grant.source}, ${grant.accepted}, made by ${grant.made_by}` + (grant.finding ? `; FINDING: ${grant.finding}` : "")));
        edges.appendChild(line);
      }
      const classes = [];
      if (bad) classes.push("finding");
      if (state.query && group.toLowerCase().includes(state.query)) classes.push("match");
      nodes.appendChild(node("group", X_GROUP, y, group, classes,
        grants.map((g) => `${g.consumer}: ${g.access}` + (g.finding ? ` (FINDING: ${g.finding})` : "")).join("\n")));
    });
    nodes.appendChild(node("owner", X_OWNER, yOwner, owner, [], `owner account ${owner}`));
    for (const consumer of consumers) nodes.appendChild(node("consumer", X_CONSUMER, yConsumer.get(consumer), consumer, [], consumer));
    svg.append(edges, nodes);
    section.querySelector("svg.graph")?.remove();
    section.appendChild(svg);
    return groups.length;
  }

  function refresh() {
    let shown = 0;
    for (const section of document.querySelectorAll("details.owner")) {
      const owner = section.dataset.owner;
      const visible = [...owners.get(owner)].filter(([group, grants]) => groupVisible(owner, group, grants)).length;
      shown += visible;
      section.classList.toggle("hidden", visible === 0);
      if ((state.query || state.findingsOnly) && visible > 0 && visible <= OPEN_ALL_BELOW) section.open = true;
      if (section.open && visible > 0) draw(section);
    }
    document.getElementById("matches").textContent =
      state.query || state.findingsOnly ? `${shown} of ${totalGroups} groups shown` : "";
  }

  function build() {
    const findings = data.grants.filter((g) => g.finding);
    document.getElementById("summary").textContent = `${data.accounts.length} accounts read, ${totalGroups} shared groups, ` +
      `${data.grants.length} grants, ${findings.length} beyond the allowlist`;
    const list = document.getElementById("finding-list");
    document.getElementById("findings").classList.toggle("none", findings.length === 0);
    if (!findings.length) list.appendChild(el("li", { class: "none" }, "none: every grant is within the allowlist"));
    for (const g of findings) {
      list.appendChild(el("li", { class: "finding-item", "data-group": g.group },
        `${g.owner} / ${g.group} -> ${g.consumer}: ${g.finding} (${g.via} ${g.source}, made by ${g.made_by})`));
    }
    const errors = document.getElementById("errors");
    for (const account of data.accounts) {
      if (account.error) errors.appendChild(el("p", {}, `${account.account} could not be read: ${account.error}`));
      if (account.allowlist_problem) errors.appendChild(el("p", {}, `${account.account}: no valid allowlist: ${account.allowlist_problem}`));
    }
    const main = document.getElementById("owners");
    for (const [owner, groups] of [...owners].sort()) {
      const bad = [...groups.values()].filter((grants) => grants.some((g) => g.finding)).length;
      const section = el("details", { class: "owner" + (bad ? " has-finding" : ""), "data-owner": owner });
      section.appendChild(el("summary", {}, `Owner ${owner}: ${groups.size} shared groups` + (bad ? `, ${bad} with findings` : "")));
      section.open = totalGroups < OPEN_ALL_BELOW || bad > 0;
      section.addEventListener("toggle", () => { if (section.open) draw(section); });
      main.appendChild(section);
    }
    document.getElementById("search").addEventListener("input", (e) => { state.query = e.target.value.trim().toLowerCase(); refresh(); });
    document.getElementById("findings-only").addEventListener("change", (e) => { state.findingsOnly = e.target.checked; refresh(); });
    document.getElementById("expand").addEventListener("click", () => { for (const s of document.querySelectorAll("details.owner")) s.open = true; });
    document.getElementById("collapse").addEventListener("click", () => { for (const s of document.querySelectorAll("details.owner")) s.open = false; });
    refresh();
    document.body.dataset.ready = "yes";
  }
  build();
})();
