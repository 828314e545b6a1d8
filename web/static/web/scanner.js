/* ch'tipass — the partner scanner page (templates/web/scanner/scanner.html) and the end of
 * the pairing (templates/web/scanner/paired.html).
 *
 * 1. Pairing: a partner key kept in localStorage; every API call sends `Api-Key <key>`.
 * 2. Input: the camera (BarcodeDetector, else the vendored jsQR) and a text field that keeps
 *    the focus for USB keyboard-wedge scanners. The same text read again within 3 s is ignored.
 * 3. Online: POST /api/v1/scans/ decides. Offline (no network, timeout, 5xx, 429): the port of
 *    passes/offline.py in scanner-verify.js decides, and the scan is queued.
 * 4. Sync: every few minutes, keys and the signed revocation list (deltas); the queue goes to
 *    POST /api/v1/scans/batch/ (idempotent by nonce) as soon as the server answers again.
 *
 * The page's words come from the template (JSON blocks), never from this file.
 */

const STORE = {
  key: "chtipass.scanner.key",
  device: "chtipass.scanner.device",
  keys: "chtipass.scanner.keys",
  revocations: "chtipass.scanner.revocations",
  queue: "chtipass.scanner.queue",
  history: "chtipass.scanner.history",
  clockOffset: "chtipass.scanner.clock-offset",
  camera: "chtipass.scanner.camera",
};
const REPEAT_MS = 3000; // a camera reads the same code many times per second
const FRAME_MS = 150; // how often a camera frame is decoded
const RESULT_MS = 15000; // then the result panel goes back to "Présentez un ch'tipass"
const REFRESH_MS = 5 * 60 * 1000; // keys and revocation list
const RETRY_MS = 30 * 1000; // queue upload and reconnection attempts
const SCAN_TIMEOUT_MS = 6000; // past this, decide offline rather than keep someone waiting
const BATCH_TIMEOUT_MS = 60000;
const BATCH_SIZE = 500; // the API's limit
const HISTORY_SIZE = 20;
const MAX_CREDENTIAL = 400; // the API's limit

class NetworkError extends Error {}

// --- Storage ----------------------------------------------------------------------------------

function load(name, fallback = null) {
  try {
    const text = localStorage.getItem(name);
    return text === null ? fallback : JSON.parse(text);
  } catch {
    return fallback;
  }
}

function save(name, value) {
  if (value === null || value === undefined) localStorage.removeItem(name);
  else localStorage.setItem(name, JSON.stringify(value));
}

// --- Small helpers ----------------------------------------------------------------------------

const $ = (id) => document.getElementById(id);

function format(template, values) {
  return template.replace(/%\((\w+)\)s/g, (match, name) =>
    name in values ? String(values[name]) : match,
  );
}

function newNonce() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The server's clock as well as we know it (ms): offline checks and scanned_at use it. */
function serverNow() {
  return Date.now() + (load(STORE.clockOffset, 0) || 0);
}

function sameLocalDay(a, b) {
  return new Date(a).toDateString() === new Date(b).toDateString();
}

// --- The page ---------------------------------------------------------------------------------

class Scanner {
  constructor(root, verify) {
    this.root = root;
    this.verify = verify;
    this.config = root.dataset;
    this.labels = JSON.parse($("scanner-reasons").textContent);
    this.text = JSON.parse($("scanner-text").textContent);
    this.plural = new Intl.PluralRules(this.config.language || "fr");
    this.lastRead = { text: "", at: 0 };
    this.reachable = true;
    this.keyRefused = false;
    this.uploading = false;
    this.refreshing = null;
    this.camera = null;
    this.resultTimer = null;
    this.audio = null;
  }

  get key() {
    return load(STORE.key);
  }

  get device() {
    return load(STORE.device) || {};
  }

  start() {
    this.registerServiceWorker();
    this.bindEvents();
    if (this.key) this.showPaired();
    else this.showUnpaired();
    setInterval(() => this.refreshNetworkData(), REFRESH_MS);
    setInterval(() => {
      if (!this.reachable) this.refreshNetworkData();
      this.uploadQueue();
    }, RETRY_MS);
  }

  registerServiceWorker() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker
      .register(this.config.serviceWorkerUrl, { scope: this.config.scope })
      .catch((error) => console.warn("ch'tipass scanner: no service worker", error));
  }

  bindEvents() {
    $("scanner-paste-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.pairWithPastedKey($("scanner-paste-key").value.trim());
    });
    $("scanner-unpair").addEventListener("click", () => this.unpair());
    $("scanner-camera-toggle").addEventListener("click", () => this.toggleCamera());
    $("scanner-sync").addEventListener("click", () => {
      this.refreshNetworkData();
      this.uploadQueue();
    });
    $("scanner-type").addEventListener("click", () => {
      const wedge = $("scanner-wedge");
      wedge.inputMode = wedge.inputMode === "none" ? "text" : "none";
      wedge.blur();
      wedge.focus();
    });
    this.bindWedge();
    window.addEventListener("online", () => {
      this.reachable = true;
      this.updateBanner();
      this.refreshNetworkData();
      this.uploadQueue();
    });
    window.addEventListener("offline", () => this.updateBanner());
    // Sound needs a user gesture first; any tap or key (a wedge types keys) unlocks it.
    for (const type of ["pointerdown", "keydown"]) {
      document.addEventListener(type, () => this.unlockAudio(), { passive: true });
    }
    document.addEventListener("visibilitychange", () => {
      if (document.hidden) this.stopCamera({ remember: false });
      else if (this.key && load(STORE.camera) === "on") this.startCamera();
    });
  }

  // --- Pairing ------------------------------------------------------------------------------

  showUnpaired() {
    this.stopCamera({ remember: false });
    $("scanner-paired").hidden = true;
    $("scanner-unpaired").hidden = false;
    this.updateBanner();
  }

  showPaired() {
    $("scanner-unpaired").hidden = true;
    $("scanner-paired").hidden = false;
    this.renderDevice();
    this.renderHistory();
    this.renderSyncStatus();
    this.showIdle();
    this.updateBanner();
    this.focusWedge();
    this.refreshNetworkData();
    this.uploadQueue();
    if (load(STORE.camera) === "on") this.startCamera();
  }

  renderDevice() {
    const device = this.device;
    $("scanner-space").textContent =
      device.space_name ||
      (device.prefix ? format(this.text.key_name_unknown, { prefix: device.prefix }) : "");
  }

  async pairWithPastedKey(key) {
    const error = $("scanner-paste-error");
    error.hidden = true;
    if (!key) return;
    let response;
    try {
      response = await this.api(this.config.deviceUrl, { key });
    } catch (failure) {
      if (!(failure instanceof NetworkError)) throw failure;
      error.textContent = this.text.paste_offline;
      error.hidden = false;
      return;
    }
    if (!response.ok) {
      error.textContent = this.text.paste_invalid;
      error.hidden = false;
      return;
    }
    const info = await response.json();
    storePairing(key, {
      space_name: info.space.name,
      space_slug: info.space.slug,
      prefix: info.key.prefix,
    });
    $("scanner-paste-key").value = "";
    this.keyRefused = false;
    this.showPaired();
  }

  unpair() {
    const pending = load(STORE.queue, []).length;
    const question = pending
      ? format(this.text.unpair_pending, { count: pending })
      : this.text.unpair_confirm;
    if (!window.confirm(question)) return;
    for (const name of Object.values(STORE)) save(name, null);
    this.keyRefused = false;
    this.showUnpaired();
  }

  // --- Talking to the API -------------------------------------------------------------------

  /** fetch with the partner key and a timeout; NetworkError when the server cannot be reached. */
  async api(url, { method = "GET", body, key = this.key, timeout = SCAN_TIMEOUT_MS } = {}) {
    if (!navigator.onLine) throw new NetworkError("offline");
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeout);
    const sentAt = Date.now();
    let response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          Authorization: `Api-Key ${key}`,
          Accept: "application/json",
          ...(body ? { "Content-Type": "application/json" } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
        credentials: "omit", // the key speaks for the device, not a logged-in session
        cache: "no-store",
        signal: controller.signal,
      });
    } catch (error) {
      this.setReachable(false);
      throw new NetworkError(String(error));
    } finally {
      clearTimeout(timer);
    }
    if (response.status >= 500) {
      this.setReachable(false);
      throw new NetworkError(`HTTP ${response.status}`);
    }
    this.setReachable(true);
    this.learnClock(response, sentAt);
    if (response.status === 401 && key === this.key) this.setKeyRefused(true);
    return response;
  }

  learnClock(response, sentAt) {
    const date = Date.parse(response.headers.get("Date") || "");
    if (Number.isNaN(date)) return;
    // The Date header has whole seconds: only correct a clock that is clearly off.
    const offset = date + 500 - (sentAt + Date.now()) / 2;
    save(STORE.clockOffset, Math.abs(offset) > 2000 ? Math.round(offset) : 0);
  }

  setReachable(reachable) {
    if (this.reachable === reachable) return;
    this.reachable = reachable;
    this.updateBanner();
    if (reachable) this.uploadQueue();
  }

  setKeyRefused(refused) {
    this.keyRefused = refused;
    this.updateBanner();
  }

  get online() {
    return navigator.onLine && this.reachable;
  }

  /** Keys, then the signed revocation list (a delta when possible), then the device's space. */
  refreshNetworkData() {
    if (!this.key || !navigator.onLine) return Promise.resolve();
    if (!this.refreshing) {
      this.refreshing = this.refreshOnce()
        .catch((error) => {
          console.warn("ch'tipass scanner: refresh failed", error);
          this.renderSyncStatus(this.text.sync_failed);
        })
        .finally(() => {
          this.refreshing = null;
        });
    }
    return this.refreshing;
  }

  async refreshOnce() {
    const device = await this.api(this.config.deviceUrl);
    if (device.ok) {
      const info = await device.json();
      save(STORE.device, {
        ...this.device,
        space_name: info.space.name,
        space_slug: info.space.slug,
        prefix: info.key.prefix,
      });
      this.renderDevice();
      this.setKeyRefused(false);
    }
    if (!device.ok) return;
    const keysResponse = await this.api(this.config.keysUrl);
    if (!keysResponse.ok) throw new Error(`keys: HTTP ${keysResponse.status}`);
    const keysDocument = await keysResponse.json();
    keysDocument.fetchedAt = Date.now();
    save(STORE.keys, keysDocument);

    const held = load(STORE.revocations);
    let revocations = null;
    if (held) {
      const delta = await this.fetchRevocations(`?since=${encodeURIComponent(held.version)}`);
      if (delta.payload.network === held.network) {
        try {
          revocations = await this.verify.applyRevocations(held, delta, keysDocument.keys);
        } catch (error) {
          if (!(error instanceof this.verify.RevocationListError)) throw error;
        }
      }
    }
    if (!revocations) {
      // First time, another network, or a delta that does not follow: take the full list.
      const full = await this.fetchRevocations("");
      revocations = await this.verify.applyRevocations(null, full, keysDocument.keys);
    }
    revocations.fetchedAt = Date.now();
    save(STORE.revocations, revocations);
    this.renderSyncStatus();
  }

  async fetchRevocations(query) {
    const response = await this.api(this.config.revocationsUrl + query);
    if (!response.ok) throw new Error(`revocations: HTTP ${response.status}`);
    return response.json();
  }

  // --- Scanning -----------------------------------------------------------------------------

  async handleRead(raw) {
    if (!this.key) return;
    const text = this.verify.normalizeScannedText(raw);
    if (!text) return;
    const now = Date.now();
    const repeated = text === this.lastRead.text && now - this.lastRead.at < REPEAT_MS;
    this.lastRead = { text, at: now };
    if (repeated) return;
    const credential = text.slice(0, MAX_CREDENTIAL);
    const nonce = newNonce();
    const scannedAt = new Date(serverNow()).toISOString();
    this.showChecking();
    let result = null;
    try {
      result = await this.scanOnline(credential, nonce, scannedAt);
    } catch (error) {
      if (!(error instanceof NetworkError)) throw error;
    }
    // The same nonce goes in the queue: if the request did reach the server, the upload
    // gets the first answer back instead of recording the scan twice.
    if (!result) result = await this.scanOffline(credential, nonce, scannedAt);
    if (result.passId == null) result.passId = passIdOf(this.verify, credential);
    this.showResult(result);
    this.remember(result);
  }

  async scanOnline(credential, nonce, scannedAt) {
    if (!navigator.onLine) return null;
    const response = await this.api(this.config.scanUrl, {
      method: "POST",
      body: { credential, scanned_at: scannedAt, nonce },
    });
    if (response.status === 429) throw new NetworkError("throttled");
    if (response.ok) return this.fromServer(await response.json(), { nonce, status: "online" });
    if (response.status === 401 || response.status === 403) {
      return { nonce, at: Date.now(), decision: "error", error: this.text.key_refused };
    }
    if (response.status === 400) {
      return { nonce, at: Date.now(), decision: "refused", reason: "malformed", status: "online" };
    }
    return {
      nonce,
      at: Date.now(),
      decision: "error",
      error: format(this.text.server_error, { status: response.status }),
    };
  }

  fromServer(answer, extra = {}) {
    const visitor = answer.visitor || {};
    return {
      at: Date.now(),
      decision: answer.decision,
      reason: answer.reason,
      alreadyCheckedIn: Boolean(answer.already_checked_in),
      firstName: visitor.first_name || "",
      photoUrl: visitor.photo_url || "",
      homeSpace: visitor.home_space || "",
      allowance: answer.allowance || null,
      idCheck: Boolean(answer.id_check_required),
      offline: Boolean(answer.offline),
      flagged: Boolean(answer.flagged),
      flagReason: answer.flag_reason || null,
      ...extra,
    };
  }

  async scanOffline(credential, nonce, scannedAt) {
    const keysDocument = load(STORE.keys);
    const state = this.verify.offlineState(keysDocument, load(STORE.revocations));
    const decided = await this.verify.verifyOffline(credential, serverNow() / 1000, state);
    const claims = decided.claims;
    const accepted = decided.decision === "accepted";
    const history = load(STORE.history, []);
    const alreadyCheckedIn =
      accepted &&
      history.some(
        (item) =>
          item.passId === claims.pass_id &&
          item.decision === "accepted" &&
          sameLocalDay(item.at, Date.now()),
      );
    const home = claims
      ? ((keysDocument && keysDocument.spaces) || []).find(
          (space) => space.space_id === claims.home_space_id,
        )
      : null;
    const queue = load(STORE.queue, []);
    queue.push({
      credential,
      scanned_at: scannedAt,
      nonce,
      device_decision: decided.decision,
      space: this.device.space_slug || null,
    });
    save(STORE.queue, queue);
    this.updateBanner();
    return {
      nonce,
      at: Date.now(),
      decision: decided.decision,
      reason: decided.reason,
      alreadyCheckedIn,
      homeSpace: home ? home.space__name || home.space__slug : "",
      offline: true,
      status: "pending",
      passId: claims ? claims.pass_id : null,
    };
  }

  // --- The queue ----------------------------------------------------------------------------

  /** Upload offline scans, oldest first, at most BATCH_SIZE per request. */
  async uploadQueue() {
    if (this.uploading || !this.key || !navigator.onLine || this.keyRefused) return;
    const space = this.device.space_slug;
    const mine = (item) => !item.space || !space || item.space === space;
    this.uploading = true;
    try {
      for (;;) {
        const before = load(STORE.queue, []);
        const batch = before.filter(mine).slice(0, BATCH_SIZE);
        if (!batch.length) break;
        this.renderSyncStatus(this.text.sending);
        const response = await this.api(this.config.batchUrl, {
          method: "POST",
          body: { scans: batch.map(uploadItem) },
          timeout: BATCH_TIMEOUT_MS,
        });
        if (response.ok) {
          this.acknowledge((await response.json()).results || []);
        } else if (response.status === 400) {
          await this.uploadOneByOne(batch);
        } else {
          break; // 401 (key revoked) or 429: keep the queue, try again later
        }
        if (load(STORE.queue, []).length >= before.length) break; // nothing acknowledged
      }
    } catch (error) {
      if (!(error instanceof NetworkError)) console.warn("ch'tipass scanner: upload", error);
    } finally {
      this.uploading = false;
      this.renderSyncStatus();
      this.updateBanner();
    }
  }

  /** A batch the server will not read: find the item at fault so that it blocks no more. */
  async uploadOneByOne(batch) {
    for (const item of batch) {
      const response = await this.api(this.config.batchUrl, {
        method: "POST",
        body: { scans: [uploadItem(item)] },
      });
      if (response.ok) this.acknowledge((await response.json()).results || []);
      else if (response.status === 400) this.drop(item.nonce);
      else return;
    }
  }

  acknowledge(results) {
    const answered = new Map(results.filter((r) => r.nonce).map((r) => [r.nonce, r]));
    save(
      STORE.queue,
      load(STORE.queue, []).filter((item) => !answered.has(item.nonce)),
    );
    const history = load(STORE.history, []).map((item) => {
      const answer = answered.get(item.nonce);
      if (!answer) return item;
      const server = this.fromServer(answer);
      return {
        ...item,
        status: answer.decision === item.decision ? "synced" : "server_refused",
        decision: server.decision,
        reason: server.reason,
        alreadyCheckedIn: server.alreadyCheckedIn,
        firstName: server.firstName || item.firstName,
        homeSpace: server.homeSpace || item.homeSpace,
        flagged: server.flagged,
        flagReason: server.flagReason,
      };
    });
    save(STORE.history, history);
    this.renderHistory();
  }

  drop(nonce) {
    save(
      STORE.queue,
      load(STORE.queue, []).filter((item) => item.nonce !== nonce),
    );
    const history = load(STORE.history, []).map((item) =>
      item.nonce === nonce ? { ...item, status: "rejected" } : item,
    );
    save(STORE.history, history);
    this.renderHistory();
  }

  // --- Showing results ----------------------------------------------------------------------

  setResultState(state) {
    const panel = $("scanner-result");
    panel.className = `scanner-result is-${state}`;
    for (const id of [
      "scanner-result-offline",
      "scanner-result-reason",
      "scanner-result-visitor",
      "scanner-result-photo",
      "scanner-result-id-check",
    ]) {
      $(id).hidden = true;
    }
  }

  showIdle() {
    this.setResultState("idle");
    $("scanner-result-title").textContent = this.text.idle;
  }

  showChecking() {
    clearTimeout(this.resultTimer);
    this.setResultState("checking");
    $("scanner-result-title").textContent = this.text.checking;
  }

  /** "Accepté", "Déjà enregistré aujourd'hui", "Refusé" or, when nothing was decided, an error. */
  title(result) {
    if (result.decision === "accepted") {
      return result.alreadyCheckedIn ? this.text.already_checked_in : this.text.accepted;
    }
    return result.decision === "error" ? this.text.cannot_check : this.text.refused;
  }

  showResult(result) {
    const accepted = result.decision === "accepted";
    this.setResultState(accepted ? "accepted" : result.decision === "error" ? "error" : "refused");
    $("scanner-result-title").textContent = this.title(result);
    const reason = result.error || (result.reason ? this.reasonText(result.reason) : "");
    if (reason) {
      $("scanner-result-reason").textContent = reason;
      $("scanner-result-reason").hidden = false;
    }
    if (result.offline) {
      $("scanner-result-offline").textContent = this.text.offline;
      $("scanner-result-offline").hidden = false;
    }
    if (accepted) {
      $("scanner-result-name").textContent = result.firstName || "";
      $("scanner-result-home").textContent = result.homeSpace
        ? format(this.text.home_space, { space: result.homeSpace })
        : "";
      const allowance = result.allowance;
      $("scanner-result-allowance").textContent = allowance
        ? format(this.text.visits_left, {
            host: allowance.host_left,
            network: allowance.network_left,
          })
        : "";
      const photo = $("scanner-result-photo");
      if (result.photoUrl) {
        photo.src = result.photoUrl;
        photo.hidden = false;
      } else {
        photo.removeAttribute("src");
      }
      $("scanner-result-visitor").hidden = !(result.firstName || result.homeSpace || allowance);
      $("scanner-result-id-check").hidden = !result.idCheck;
    }
    this.signal(accepted);
    clearTimeout(this.resultTimer);
    this.resultTimer = setTimeout(() => this.showIdle(), RESULT_MS);
  }

  reasonText(code) {
    return this.labels[code] || code;
  }

  remember(result) {
    const entry = {
      nonce: result.nonce,
      at: result.at,
      decision: result.decision,
      reason: result.reason || null,
      error: result.error || null,
      alreadyCheckedIn: Boolean(result.alreadyCheckedIn),
      firstName: result.firstName || "",
      homeSpace: result.homeSpace || "",
      offline: Boolean(result.offline),
      flagged: Boolean(result.flagged),
      flagReason: result.flagReason || null,
      status: result.status || "online",
      passId: result.passId ?? null,
    };
    const history = [entry, ...load(STORE.history, [])].slice(0, HISTORY_SIZE);
    save(STORE.history, history);
    this.renderHistory();
  }

  renderHistory() {
    const list = $("scanner-history");
    const history = load(STORE.history, []);
    list.replaceChildren(...history.map((item) => this.historyItem(item)));
    $("scanner-history-empty").hidden = history.length > 0;
  }

  historyItem(item) {
    const accepted = item.decision === "accepted";
    const li = document.createElement("li");
    li.className = `scanner-history-item is-${item.decision}`;
    const time = document.createElement("time");
    time.dateTime = new Date(item.at).toISOString();
    time.textContent = new Date(item.at).toLocaleTimeString(this.config.language);
    const what = document.createElement("span");
    what.className = "scanner-history-what";
    const title = this.title(item);
    const detail = accepted
      ? [item.firstName, item.homeSpace].filter(Boolean).join(" · ")
      : item.error || this.reasonText(item.reason || "");
    what.textContent = detail ? `${title} — ${detail}` : title;
    li.append(time, what);
    const badges = [];
    if (item.offline) badges.push([this.text.offline, "off"]);
    if (item.status === "pending") badges.push([this.text.pending, "off"]);
    if (item.status === "synced") badges.push([this.text.synced, ""]);
    if (item.status === "server_refused") badges.push([this.text.server_refused, "bad"]);
    if (item.status === "rejected") badges.push([this.text.rejected, "bad"]);
    if (item.flagged) {
      const why = item.flagReason ? ` : ${this.reasonText(item.flagReason)}` : "";
      badges.push([`${this.text.flagged}${why}`, "bad"]);
    }
    for (const [label, kind] of badges) {
      const badge = document.createElement("span");
      badge.className = `badge ${kind}`.trim();
      badge.textContent = label;
      li.append(badge);
    }
    return li;
  }

  updateBanner() {
    const banner = $("scanner-banner");
    const pending = load(STORE.queue, []).length;
    const form = this.plural.select(pending) === "one" ? "one" : "other";
    let message = "";
    let kind = "";
    if (this.key && this.keyRefused) {
      message = this.text.key_refused;
      kind = "is-error";
    } else if (!this.online) {
      message = format(this.text[`banner_offline_${form}`], { count: pending });
      kind = "is-offline";
    } else if (pending) {
      message = format(this.text[`banner_pending_${form}`], { count: pending });
      kind = "is-pending";
    }
    banner.textContent = message;
    banner.className = `scanner-banner ${kind}`;
    banner.hidden = !message;
    document.body.classList.toggle("scanner-offline", !this.online);
  }

  renderSyncStatus(message) {
    const status = $("scanner-sync-status");
    if (message) {
      status.textContent = message;
      return;
    }
    const keys = load(STORE.keys);
    const revocations = load(STORE.revocations);
    if (!keys || !keys.keys || !keys.keys.length) {
      status.textContent = this.text.never_synced;
      return;
    }
    const at = Math.min(keys.fetchedAt || 0, (revocations && revocations.fetchedAt) || 0);
    status.textContent = format(this.text.synced_at, {
      time: new Date(at).toLocaleString(this.config.language, {
        dateStyle: "short",
        timeStyle: "short",
      }),
    });
  }

  // --- Sound and vibration ------------------------------------------------------------------

  unlockAudio() {
    try {
      const AudioContext = window.AudioContext || window.webkitAudioContext;
      if (!AudioContext) return;
      this.audio = this.audio || new AudioContext();
      if (this.audio.state === "suspended") this.audio.resume();
    } catch {
      this.audio = null;
    }
  }

  signal(accepted) {
    if (navigator.vibrate) navigator.vibrate(accepted ? 80 : [200, 100, 200]);
    if (!this.audio || this.audio.state !== "running") return;
    const tones = accepted ? [[880, 0, 0.12]] : [[220, 0, 0.18], [220, 0.25, 0.18]];
    for (const [frequency, start, length] of tones) {
      const oscillator = this.audio.createOscillator();
      const gain = this.audio.createGain();
      oscillator.frequency.value = frequency;
      gain.gain.value = 0.2;
      oscillator.connect(gain).connect(this.audio.destination);
      const at = this.audio.currentTime + start;
      oscillator.start(at);
      oscillator.stop(at + length);
    }
  }

  // --- Keyboard wedge -----------------------------------------------------------------------

  bindWedge() {
    const wedge = $("scanner-wedge");
    const submit = () => {
      const value = wedge.value;
      wedge.value = "";
      if (value.trim()) this.handleRead(value);
    };
    $("scanner-wedge-form").addEventListener("submit", (event) => {
      event.preventDefault();
      submit();
    });
    // Some scanners end with Tab rather than Enter; some send no suffix at all.
    wedge.addEventListener("keydown", (event) => {
      if (event.key === "Tab" && wedge.value.trim()) {
        event.preventDefault();
        submit();
      }
    });
    let pause = null;
    wedge.addEventListener("input", () => {
      clearTimeout(pause);
      const text = this.verify.normalizeScannedText(wedge.value);
      if (text.length === this.verify.TEXT_SIZE) pause = setTimeout(submit, 80);
    });
    // The field keeps the focus so that a scanner can type at any time.
    wedge.addEventListener("blur", () => setTimeout(() => this.focusWedge(), 0));
    document.addEventListener("click", () => setTimeout(() => this.focusWedge(), 0));
  }

  focusWedge() {
    const wedge = $("scanner-wedge");
    if ($("scanner-paired").hidden || document.activeElement === wedge) return;
    const active = document.activeElement;
    if (active && active !== document.body && active.matches("input, select, textarea")) return;
    wedge.focus({ preventScroll: true });
  }

  // --- Camera -------------------------------------------------------------------------------

  toggleCamera() {
    if (this.camera) this.stopCamera({ remember: true });
    else this.startCamera();
  }

  async startCamera() {
    if (this.camera || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      if (!this.camera) this.cameraError(this.text.camera_missing);
      return;
    }
    const video = $("scanner-video");
    const camera = { stream: null, timer: null, stopped: false };
    this.camera = camera;
    $("scanner-camera-error").hidden = true;
    try {
      camera.stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 } },
        audio: false,
      });
      if (camera.stopped) {
        stopTracks(camera.stream);
        return;
      }
      video.srcObject = camera.stream;
      await video.play();
      video.hidden = false;
      $("scanner-camera-toggle").textContent = this.text.camera_stop;
      save(STORE.camera, "on");
      const decode = await this.frameDecoder(video);
      const tick = async () => {
        if (camera.stopped) return;
        try {
          if (video.readyState >= 2 && !document.hidden) {
            const text = await decode();
            if (text) await this.handleRead(text);
          }
        } catch (error) {
          console.warn("ch'tipass scanner: frame", error);
        }
        if (!camera.stopped) camera.timer = setTimeout(tick, FRAME_MS);
      };
      tick();
    } catch (error) {
      this.stopCamera({ remember: false });
      const name = error && error.name;
      if (name === "NotAllowedError" || name === "SecurityError") {
        this.cameraError(this.text.camera_denied);
      } else if (name === "NotFoundError" || name === "OverconstrainedError") {
        this.cameraError(this.text.camera_missing);
      } else {
        this.cameraError(format(this.text.camera_failed, { error: name || String(error) }));
      }
    }
  }

  stopCamera({ remember }) {
    const camera = this.camera;
    if (!camera) return;
    camera.stopped = true;
    clearTimeout(camera.timer);
    if (camera.stream) stopTracks(camera.stream);
    const video = $("scanner-video");
    video.srcObject = null;
    video.hidden = true;
    $("scanner-camera-toggle").textContent = this.text.camera_start;
    this.camera = null;
    if (remember) save(STORE.camera, null);
  }

  cameraError(message) {
    const element = $("scanner-camera-error");
    element.textContent = message;
    element.hidden = false;
  }

  /** A function that decodes the current frame: BarcodeDetector if the browser has one. */
  async frameDecoder(video) {
    if ("BarcodeDetector" in window) {
      try {
        const formats = await window.BarcodeDetector.getSupportedFormats();
        if (formats.includes("qr_code")) {
          const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
          return async () => {
            const codes = await detector.detect(video);
            return codes.length ? codes[0].rawValue : null;
          };
        }
      } catch {
        // fall through to jsQR
      }
    }
    await loadScript(this.config.jsqrUrl);
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });
    return async () => {
      const scale = Math.min(1, 800 / Math.max(video.videoWidth, video.videoHeight));
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      const image = context.getImageData(0, 0, canvas.width, canvas.height);
      const code = window.jsQR(image.data, image.width, image.height, {
        inversionAttempts: "dontInvert",
      });
      return code ? code.data : null;
    };
  }
}

/** The pass a credential names (unverified): offline, a second scan today is recognised. */
function passIdOf(verify, credential) {
  try {
    return verify.decodeCredential(credential).claims.pass_id;
  } catch {
    return null;
  }
}

function uploadItem(item) {
  return {
    credential: item.credential,
    scanned_at: item.scanned_at,
    nonce: item.nonce,
    device_decision: item.device_decision,
  };
}

function stopTracks(stream) {
  for (const track of stream.getTracks()) track.stop();
}

const loadedScripts = new Map();

function loadScript(url) {
  if (!loadedScripts.has(url)) {
    loadedScripts.set(
      url,
      new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = url;
        script.onload = resolve;
        script.onerror = () => reject(new Error(`cannot load ${url}`));
        document.head.append(script);
      }),
    );
  }
  return loadedScripts.get(url);
}

/** Keep a key in this browser; another space's cached keys and lists are forgotten. */
function storePairing(key, device) {
  const previous = load(STORE.device) || {};
  if (previous.space_slug && previous.space_slug !== device.space_slug) {
    save(STORE.keys, null);
    save(STORE.revocations, null);
    save(STORE.history, null);
  }
  save(STORE.key, key);
  save(STORE.device, device);
}

// --- Start ------------------------------------------------------------------------------------

async function main() {
  const pairing = $("scanner-pairing-result");
  if (pairing) {
    // The page right after the pairing POST: the only time the key is handed over.
    const data = pairing.dataset;
    storePairing(data.partnerKey, {
      space_name: data.spaceName,
      space_slug: data.spaceSlug,
      prefix: data.keyPrefix,
    });
    pairing.remove();
    window.location.replace(data.scannerUrl);
    return;
  }
  const root = $("scanner");
  if (!root) return;
  const verifyUrl = root.dataset.verifyUrl || new URL("./scanner-verify.js", import.meta.url).href;
  const verify = await import(verifyUrl);
  verify.setEd25519FallbackUrl(root.dataset.ed25519Url);
  const scanner = new Scanner(root, verify);
  window.chtipassScanner = scanner; // for browser tests and the curious
  scanner.start();
}

main();
