// The workspaces page: launch, watch a launch come up (the events stream), and manage one's workspaces. Plain
// script, no build step and nothing from another origin, so the page works air-gapped. It only calls the REST API,
// with the session cookie and the CSRF header, as any other client would.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const STEPS = ["Pending", "Building", "Creating", "Initializing", "Running"];
  const SOURCES = {
    Request: "chosen at launch",
    Prebuild: "prebuilt",
    DevContainerImage: "devcontainer",
    DevContainerBuild: "devcontainer (built)",
    Fallback: "fallback",
  };
  const REFRESH_MS = 2000;
  const LOG_LINES = 500;

  let csrf = "";
  let showAll = false;
  let watched = null; // { id, source: EventSource }
  let workspaces = [];

  // --- the API -----------------------------------------------------------------------------------------------------

  /** Calls the API; answers { ok, status, body } with the problem document as the body of a refusal. */
  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = csrf;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" });
    } catch {
      return { ok: false, status: 0, body: { detail: "The platform did not answer; check the connection and try again." } };
    }

    if (response.status === 401) {
      location.assign("/signin?returnUrl=" + encodeURIComponent(location.pathname));
      return { ok: false, status: 401, body: {} };
    }

    const text = await response.text();
    let parsed = {};
    try { parsed = text ? JSON.parse(text) : {}; } catch { parsed = { detail: text }; }
    return { ok: response.ok, status: response.status, body: parsed };
  }

  /** What to tell the user about a refusal: the problem's detail, with what to do for quota and rate limits. */
  function explain(result) {
    const detail = result.body && (result.body.detail || result.body.title) || `The platform answered ${result.status}.`;
    const type = (result.body && result.body.type) || "";
    if (type.endsWith("quota-exceeded")) return `${detail} Stop or delete one of your running workspaces, then try again.`;
    if (type.endsWith("rate-limited")) return detail;
    return detail;
  }

  // --- who is signed in --------------------------------------------------------------------------------------------

  async function loadMe() {
    const me = await api("GET", "/api/me");
    if (!me.ok) return false;
    csrf = me.body.csrfToken || "";
    $("signout-csrf").value = csrf;
    $("who").textContent = `Signed in as ${me.body.user}`;
    $("dev-warning").hidden = !me.body.devSignIn;
    const admin = (me.body.roles || []).includes("admin");
    $("dashboard").hidden = !admin;
    $("all-toggle").hidden = !admin;
    return true;
  }

  // --- launch ------------------------------------------------------------------------------------------------------

  const FIELDS = { repoUrl: "repo", ref: "ref", image: "image" };

  function clearErrors() {
    for (const input of Object.values(FIELDS)) {
      $(input).removeAttribute("aria-invalid");
      $(`${input}-error`).hidden = true;
      $(`${input}-error`).textContent = "";
    }
    $("launch-error").hidden = true;
  }

  function showFieldError(field, message) {
    const input = FIELDS[field];
    if (!input) return false;
    if (input === "image") $("image").closest("details").open = true;
    $(input).setAttribute("aria-invalid", "true");
    $(`${input}-error`).textContent = message;
    $(`${input}-error`).hidden = false;
    $(input).focus();
    return true;
  }

  function checkUrl(value) {
    if (!value) return "Enter the URL of a Git repository.";
    if (/^[\w.-]+\/[\w.-]+$/.test(value)) return null; // owner/name: the server names the host
    try {
      const url = new URL(value);
      if (!["https:", "http:", "ssh:", "git:", "file:"].includes(url.protocol)) return `${url.protocol} is not a Git URL scheme; use https://…`;
    } catch {
      if (!/^[\w.-]+@[\w.-]+:/.test(value)) return "This is not a repository URL; use https://host/owner/repository.";
    }
    return null;
  }

  async function launch(event) {
    event.preventDefault();
    clearErrors();
    const repoUrl = $("repo").value.trim();
    const ref = $("ref").value.trim();
    const image = $("image").value.trim();
    const local = checkUrl(repoUrl);
    if (local) {
      showFieldError("repoUrl", local);
      return;
    }

    const button = $("launch-button");
    button.disabled = true;
    button.textContent = "Launching…";
    try {
      const body = { repoUrl };
      if (ref) body.ref = ref;
      if (image) body.image = image;
      const result = await api("POST", "/api/workspaces", body);
      if (!result.ok) {
        const field = result.body && result.body.field;
        if (!(result.status === 400 && showFieldError(field, explain(result)))) {
          $("launch-error").textContent = explain(result);
          $("launch-error").hidden = false;
        }
        return;
      }

      $("launch").reset();
      watch(result.body);
      refresh();
    } finally {
      button.disabled = false;
      button.textContent = "Launch";
    }
  }

  // --- the progress of one workspace --------------------------------------------------------------------------------

  function watch(workspace) {
    if (watched) watched.source.close();
    $("progress").hidden = false;
    $("progress-repo").textContent = workspace.repoUrl + (workspace.ref ? ` (${workspace.ref})` : "");
    $("log").textContent = "";
    $("progress-reason").hidden = true;
    $("progress-open").hidden = true;
    lastStep = 0;
    renderSteps(workspace.phase, workspace.reason);
    const source = new EventSource(`/api/workspaces/${encodeURIComponent(workspace.id)}/events`);
    watched = { id: workspace.id, url: workspace.url, source };
    const onEvent = (message) => {
      const evt = JSON.parse(message.data);
      if (evt.kind === "Phase") {
        renderSteps(evt.phase, reasonOf(evt.message));
      } else {
        appendLog(evt.kind === "Warning" ? `Warning: ${evt.message}` : evt.message);
      }
    };
    for (const kind of ["phase", "command", "log", "error", "warning", "snapshot"]) {
      source.addEventListener(kind, onEvent);
    }
    source.onmessage = onEvent;
  }

  /** "Failed: the reason" → "the reason". */
  function reasonOf(message) {
    const at = message.indexOf(": ");
    return at < 0 ? null : message.slice(at + 2);
  }

  function appendLog(line) {
    const log = $("log");
    const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.append(line + "\n");
    while (log.childNodes.length > LOG_LINES) log.removeChild(log.firstChild);
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  let lastStep = 0;

  function renderSteps(phase, reason) {
    const steps = $("steps");
    steps.textContent = "";
    const reached = STEPS.indexOf(phase);
    if (reached >= 0) lastStep = reached;
    for (const [index, name] of STEPS.entries()) {
      const item = document.createElement("li");
      item.textContent = name;
      if (index < lastStep || (index === lastStep && reached < 0 && phase !== "Failed")) item.className = "done";
      if (index === reached) item.setAttribute("aria-current", "step");
      steps.append(item);
    }

    if (reached < 0) {
      // Failed (shown after the step it failed in), or a phase after the launch (Stopping, Stopped, Deleting...).
      const item = document.createElement("li");
      item.textContent = phase;
      item.setAttribute("aria-current", "step");
      if (phase === "Failed") item.className = "failed";
      steps.append(item);
    }

    const failed = phase === "Failed";
    $("progress-reason").hidden = !failed;
    $("progress-reason").textContent = failed ? `The launch failed: ${reason || "no reason was given."}` : "";
    $("progress-open").hidden = phase !== "Running";
  }

  // --- my workspaces -----------------------------------------------------------------------------------------------

  async function refresh() {
    $("list-title").textContent = showAll ? "Everyone's workspaces" : "My workspaces";
    const result = await api("GET", showAll ? "/api/workspaces?all=true" : "/api/workspaces");
    if (!result.ok) {
      $("list-error").textContent = explain(result);
      $("list-error").hidden = false;
      return;
    }

    $("list-error").hidden = true;
    workspaces = result.body;
    renderRows();
  }

  function activity(at) {
    if (!at) return "no activity yet";
    const minutes = Math.round((Date.now() - Date.parse(at)) / 60000);
    return minutes < 1 ? "active just now" : `active ${minutes} min ago`;
  }

  function countdown(w) {
    if (w.phase !== "Running" || !w.idleTimeoutMinutes) return "";
    const since = Date.parse(w.lastActivityAt || w.updatedAt);
    const left = Math.max(0, Math.ceil((since + w.idleTimeoutMinutes * 60000 - Date.now()) / 60000));
    return `stops in ${left} min`;
  }

  function cell(row, label, ...parts) {
    const td = document.createElement("td");
    td.dataset.label = label;
    for (const part of parts) if (part) td.append(part);
    row.append(td);
    return td;
  }

  function span(text, className) {
    const s = document.createElement("span");
    s.textContent = text;
    if (className) s.className = className;
    return s;
  }

  function actionButton(label, enabled, onClick, workspace) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.disabled = !enabled;
    button.setAttribute("aria-describedby", `repo-of-${workspace.id}`);
    button.addEventListener("click", onClick);
    return button;
  }

  function renderRows() {
    const rows = $("rows");
    const focused = document.activeElement && document.activeElement.closest("tr") ? [document.activeElement.closest("tr").dataset.id, document.activeElement.textContent] : null;
    rows.textContent = "";
    $("empty").hidden = workspaces.length > 0;
    $("workspaces").hidden = workspaces.length === 0;
    for (const w of workspaces) {
      const row = document.createElement("tr");
      row.dataset.id = w.id;
      const repo = span(w.repoUrl, "long");
      repo.id = `repo-of-${w.id}`;
      cell(row, "Repository", w.displayName ? span(w.displayName, "name") : null, repo, span(w.ref ? `ref ${w.ref}` : "default branch", "sub"), showAll ? span(`owner ${w.owner}`, "sub") : null);
      cell(row, "Phase", span(w.phase, `phase phase-${w.phase}`), w.phase === "Failed" && w.reason ? span(w.reason, "sub")
        : w.hookFailure ? span(w.hookFailure, "sub") : w.hooksRunning ? span("postCreateCommand and later hooks running", "sub") : null);
      cell(row, "Image", span(w.image || "not chosen yet", "long"), w.imageSource ? span(SOURCES[w.imageSource] || w.imageSource, "sub") : null);
      cell(row, "Activity", span(activity(w.lastActivityAt)), countdown(w) ? span(countdown(w), "sub") : null);

      const actions = document.createElement("div");
      actions.className = "row-actions";
      const wantsRun = w.desired === "Running";
      actions.append(
        actionButton("Open", w.phase === "Running", () => open(w), w),
        actionButton("Stop", wantsRun && w.phase !== "Failed" && w.phase !== "Stopped", () => command(w, "stop"), w),
        actionButton("Start", !wantsRun || w.phase === "Failed" || w.phase === "Stopped", () => command(w, "start"), w),
        actionButton("Delete", w.desired !== "Deleted", () => confirmDelete(w), w),
      );
      cell(row, "Actions", actions);
      rows.append(row);
    }

    // A refresh must not take the keyboard focus away from the button the user is on.
    if (focused) {
      const row = rows.querySelector(`tr[data-id="${CSS.escape(focused[0])}"]`);
      const button = row && [...row.querySelectorAll("button")].find((b) => b.textContent === focused[1]);
      if (button) button.focus();
    }

    if (watched) {
      const current = workspaces.find((w) => w.id === watched.id);
      if (current) watched.url = current.url;
    }
  }

  function open(workspace) {
    // A new tab on the workspace's own origin: the proxy signs the user in from this session, then shows the IDE.
    window.open(workspace.url, "_blank", "noopener");
  }

  async function command(workspace, verb) {
    const result = await api("POST", `/api/workspaces/${encodeURIComponent(workspace.id)}/${verb}`);
    if (!result.ok) {
      $("list-error").textContent = explain(result);
      $("list-error").hidden = false;
    }
    refresh();
  }

  function confirmDelete(workspace) {
    const dialog = $("confirm");
    $("confirm-text").textContent = `${workspace.repoUrl} and its files will be removed; this cannot be undone.`;
    dialog.onclose = async () => {
      if (dialog.returnValue !== "delete") return;
      const result = await api("DELETE", `/api/workspaces/${encodeURIComponent(workspace.id)}`);
      if (!result.ok) {
        $("list-error").textContent = explain(result);
        $("list-error").hidden = false;
      }
      refresh();
    };
    dialog.returnValue = "";
    dialog.showModal();
  }

  // --- start -------------------------------------------------------------------------------------------------------

  async function start() {
    if (!(await loadMe())) return;
    $("launch").addEventListener("submit", launch);
    $("progress-open-button").addEventListener("click", () => watched && open({ url: watched.url }));
    $("all").addEventListener("change", (e) => { showAll = e.target.checked; refresh(); });
    await refresh();
    // Live without reloading: the list is read again every two seconds, faster than any phase a user waits for.
    setInterval(() => { if (!document.hidden) refresh(); }, REFRESH_MS);
  }

  start();
})();
