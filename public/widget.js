/* The helpdesk's widget for the control panel. The panel's page writes:
 *   <script>window.Helpdesk=window.Helpdesk||function(){(Helpdesk.q=Helpdesk.q||[]).push(arguments)};</script>
 *   <script src="https://helpdesk.smacloud.it/PanelNML/widget.js" async data-accent="#0b5cad"></script>
 * and then calls Helpdesk('open' | 'close' | 'toggle' | 'launcher', bool | 'prefill', {...} |
 * 'new-ticket' | 'locale', 'it'|'en' | 'sso', fn(done) | 'logout' | 'on', event, fn).
 * data-top (a length, 4rem unless set) is kept free at the top of the page, where the panel has
 * its own header: the open widget never covers it on a wide screen.
 * data-preload says when the app starts, in a hidden frame (not shown, inert, aria-hidden), so
 * that opening only shows it, signed on: "idle" (the default) once the page has loaded and the
 * browser is idle; "now" at once (so does a bare data-preload); "off" at the first opening. Any
 * other value is "idle", with a warning; with Save-Data on, "idle" is "off". Only the frame
 * itself warms the cache its app uses (browsers key it by top site and frame site). Messages
 * with the app carry a type and are taken only from our own frame and the app's origin; ours go
 * only to the app's origin. A sign-on token travels in a message, never in a URL.
 * The labels here (launcher, title bar) speak the app's language: the panel's `locale` until the
 * app is there, then whatever the app says it shows (the customer may have chosen another). */
(function (w, d) {
  "use strict";
  var P = "helpdesk:";
  var old = w.Helpdesk;
  if (old && old.loaded) return;
  var script = d.currentScript || d.querySelector("script[src*='widget.js']");
  if (!script) return;
  var src = script.src;
  var base = src.replace(/widget\.js([?#].*)?$/, "");
  var appOrigin = new URL(src).origin;
  var data = script.dataset;
  var T = {
    it: ["Assistenza", "Assistenza clienti", "Chiudi", "L'assistenza non può essere mostrata in questa pagina.",
      "Apri l'assistenza in una nuova scheda", " ticket attendono la tua risposta", " ticket attende la tua risposta"],
    en: ["Support", "Customer support", "Close", "Support cannot be shown on this page.",
      "Open support in a new tab", " tickets await your reply", " ticket awaits your reply"]
  };
  var lang = "it";
  var t = function (i) { return T[lang][i]; };
  var LEN = /^\d+(\.\d+)?(px|r?em)$/;

  // Theme: only values that are what they claim to be (the app checks them again).
  var theme = {};
  if (/^#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/i.test(data.accent || "")) theme.accent = data.accent;
  if (LEN.test(data.radius || "")) theme.radius = data.radius;
  if (/^[\w \-"',]{1,200}$/.test(data.font || "")) theme.font = data.font;
  var accent = theme.accent || "#0b5cad";
  var side = data.position === "left" ? "left" : "right";

  var handlers = {}, sso = null, prefill = null, locale = null, unread = null;
  var frame = null, box, launcher, badge, note, title, close, trap, fallback;
  var isOpen = false, ready = false, showLauncher = true, outbox = [], waiting;
  var FONT = "font:600 1rem/1.2 system-ui,sans-serif;";
  var HIDE = "position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap";

  function emit(name, detail) {
    (handlers[name] || []).slice().forEach(function (f) {
      try { f(detail || {}); } catch (e) { setTimeout(function () { throw e; }); }
    });
  }
  function post(msg) {
    if (ready && frame && frame.contentWindow) frame.contentWindow.postMessage(msg, appOrigin);
    else outbox.push(msg);
  }
  function el(tag, css, text) {
    var e = d.createElement(tag);
    if (css) e.style.cssText = css;
    if (text) e.textContent = text;
    return e;
  }

  function build() {
    launcher = el("button", "position:fixed;" + side + ":1rem;bottom:1rem;z-index:2147483000;padding:.75rem 1.15rem;border:0;border-radius:2rem;background:" + accent + ";color:#fff;cursor:pointer;box-shadow:0 2px 10px rgba(0,0,0,.25);" + FONT);
    launcher.type = "button";
    launcher.id = "helpdesk-launcher";
    launcher.setAttribute("aria-haspopup", "dialog");
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", "helpdesk-dialog");
    launcher.appendChild(el("span", "", t(0)));
    badge = el("span", "display:none;margin-left:.5rem;min-width:1.4rem;padding:0 .35rem;border-radius:1rem;background:#fff;color:#b3261e;font-size:.85rem;line-height:1.4rem;text-align:center");
    launcher.appendChild(badge);
    // The launcher's name is its text, the badge's number included (WCAG 2.5.3), then this.
    note = el("span", HIDE);
    launcher.appendChild(note);
    launcher.onclick = function () { toggle(); };

    box = el("div", "display:none;box-sizing:border-box;position:fixed;" + side + ":1rem;bottom:4.75rem;z-index:2147483001;width:min(26rem,calc(100vw - 2rem));flex-direction:column;background:#fff;border:1px solid #c9d2dc;border-radius:.75rem;box-shadow:0 8px 30px rgba(0,0,0,.25);overflow:hidden");
    box.id = "helpdesk-dialog";
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-labelledby", "helpdesk-title");
    var head = el("div", "display:flex;align-items:center;justify-content:space-between;padding:.4rem .5rem .4rem 1rem;background:" + accent + ";color:#fff");
    title = el("h2", "margin:0;" + FONT, t(1));
    title.id = "helpdesk-title";
    close = el("button", "border:0;background:transparent;color:#fff;cursor:pointer;padding:.3rem .6rem;font:400 1.5rem/1 system-ui,sans-serif", "\u00d7");
    close.type = "button";
    close.id = "helpdesk-close";
    close.setAttribute("aria-label", t(2));
    close.onclick = function () { hide(); };
    head.appendChild(title);
    head.appendChild(close);
    box.appendChild(head);
    // Full screen the widget is modal: Tab leaving the frame's last field reaches this and goes
    // round to the close button; Shift+Tab on the close button goes back into the frame.
    trap = el("span", HIDE);
    trap.onfocus = function () { close.focus(); };
    box.appendChild(trap);
    box.addEventListener("keydown", function (e) {
      if (e.key === "Escape") hide();
      if (e.key === "Tab" && e.shiftKey && modalOn && e.target === close) {
        e.preventDefault();
        (fallback ? fallback.lastChild : frame || close).focus();
      }
    });
    launcher.lang = box.lang = lang;
    d.body.appendChild(box);
    d.body.appendChild(launcher);
    setLauncher(showLauncher);
    layout(0);
  }

  function makeFrame() {
    if (frame) return;
    frame = el("iframe", "display:block;width:100%;height:24rem;border:0;background:#fff");
    frame.id = "helpdesk-frame";
    frame.title = t(1);
    frame.src = base;
    box.insertBefore(frame, trap);
    conceal(true);
    fetchToken();
    // A page that may not frame the helpdesk gets the browser's error page and never a ready.
    waiting = setTimeout(function () {
      if (ready) return;
      fallback = el("p", "margin:0;padding:1rem;color:#17202a;font:400 1rem/1.5 system-ui,sans-serif", t(3) + " ");
      fallback.id = "helpdesk-fallback";
      var a = el("a", "color:#0b5cad", t(4));
      a.href = base;
      a.target = "_blank";
      a.rel = "noopener";
      fallback.appendChild(a);
      frame.style.display = "none";
      box.insertBefore(fallback, trap);
    }, 5000);
  }

  // The frame grows with the app's content, within the viewport and below data-top; a phone gets
  // the whole screen, as the visual viewport has it: a panel wider than the phone (its header
  // overflowing) widens the layout viewport, and a box sized to that one is cut off.
  var contentHeight = 0, modalOn = false, inerted = [];
  function view() {
    var v = w.visualViewport;
    return v ? [v.offsetLeft, v.offsetTop, v.width, v.height] : [0, 0, w.innerWidth, w.innerHeight];
  }
  function phone() { return view()[2] < 600; }
  function top() {
    var m = LEN.exec(data.top || "4rem");
    return m ? parseFloat(m[0]) * (m[2] === "px" ? 1 : parseFloat(getComputedStyle(d.documentElement).fontSize)) : 0;
  }
  function layout(h) {
    if (h) contentHeight = h;
    var v = view(), p = v[2] < 600, s = box.style;
    s.left = s.right = s.top = s.bottom = "";
    if (p) {
      s.left = v[0] + "px";
      s.top = v[1] + "px";
      s.width = v[2] + "px";
      s.height = v[3] + "px";
    } else {
      s[side] = "1rem";
      s.bottom = "4.75rem";
      s.width = "min(26rem,calc(100vw - 2rem))";
      s.height = "";
    }
    s.borderRadius = p ? "0" : ".75rem";
    s.borderWidth = p ? "0" : "1px";
    if (frame) {
      var room = p ? v[3] - 44 : w.innerHeight - top() - 76 - 44;
      frame.style.height = (p ? room : Math.max(160, Math.min(contentHeight || 384, room))) + "px";
    }
    modal(p && isOpen);
  }
  // Full screen, the panel's page behind is inert (out of reach of Tab and of screen readers).
  function modal(on) {
    if (on === modalOn) return;
    modalOn = on;
    trap.tabIndex = on ? 0 : -1;
    if (on) {
      box.setAttribute("aria-modal", "true");
      [].forEach.call(d.body.children, function (c) {
        if (c !== box && !c.inert) { c.inert = true; inerted.push(c); }
      });
    } else {
      box.removeAttribute("aria-modal");
      inerted.forEach(function (c) { c.inert = false; });
      inerted = [];
    }
  }

  function setLauncher(on) {
    showLauncher = on !== false;
    if (launcher) launcher.style.display = showLauncher && !(isOpen && phone()) ? "" : "none";
  }
  function setUnread(n) {
    unread = n;
    if (!badge) return;
    // The space keeps the number a word of its own in the name; it takes no room on screen.
    badge.textContent = " " + (n > 99 ? "99+" : n);
    badge.style.display = n > 0 ? "inline-block" : "none";
    note.textContent = n > 0 ? t(n === 1 ? 6 : 5) : "";
  }

  // A closed widget's frame (preloaded, or closed after use) is out of reach: a focus() of the
  // app's inside it cannot take the focus away from the panel's page.
  function conceal(on) {
    frame.inert = on;
    if (on) frame.setAttribute("aria-hidden", "true");
    else frame.removeAttribute("aria-hidden");
  }
  var before = null;
  function show() {
    if (!box) return;
    makeFrame();
    if (isOpen) return;
    isOpen = true;
    conceal(false);
    before = d.activeElement;
    box.style.display = "flex";
    launcher.setAttribute("aria-expanded", "true");
    setLauncher(showLauncher);
    layout(0);
    if (ready) { frame.focus(); post({ type: P + "open" }); } else title.setAttribute("tabindex", "-1"), title.focus();
    emit("open");
  }
  function hide() {
    if (!isOpen) return;
    isOpen = false;
    box.style.display = "none";
    conceal(true);
    modal(false);
    launcher.setAttribute("aria-expanded", "false");
    setLauncher(showLauncher);
    var back = showLauncher ? launcher : before;
    if (back && back.focus) back.focus();
    emit("close");
  }
  function toggle() { if (isOpen) hide(); else show(); }
  function relabel(l) {
    if (l !== "it" && l !== "en") return;
    lang = l;
    if (!box) return;
    launcher.lang = box.lang = l;
    launcher.firstChild.textContent = t(0);
    title.textContent = t(1);
    close.setAttribute("aria-label", t(2));
    if (frame) frame.title = t(1);
    if (unread !== null) setUnread(unread);
  }
  // Sign-on: the token is fetched from the host as the frame starts loading (not after the app
  // asks), and handed over when the app asks; one kept longer than a minute is fetched again.
  var token = null, tokenAt = 0, fetching = 0, wanted = false;
  function fetchToken() {
    // A host that never called done() is asked again after 10 s.
    if (!sso || Date.now() - fetching < 10000) return;
    var mine = fetching = Date.now();
    sso(function (t) {
      if (mine !== fetching) return;
      fetching = 0;
      if (typeof t !== "string") return;
      token = t.trim();
      tokenAt = Date.now();
      deliver();
    });
  }
  function deliver() {
    if (token && Date.now() - tokenAt > 60000) token = null;
    if (!wanted) return;
    if (!token) return fetchToken();
    wanted = false;
    post({ type: P + "sso", token: token });
    token = null;
  }

  w.addEventListener("message", function (e) {
    if (!frame || e.source !== frame.contentWindow || e.origin !== appOrigin) return;
    var m = e.data;
    if (!m || typeof m.type !== "string" || m.type.indexOf(P) !== 0) return;
    var type = m.type.slice(P.length);
    if (type === "ready") {
      if (ready) return;
      ready = true;
      clearTimeout(waiting);
      if (fallback) { fallback.remove(); fallback = null; frame.style.display = "block"; }
      frame.contentWindow.postMessage({ type: P + "init", theme: theme, locale: locale, sso: !!sso, prefill: prefill, open: isOpen }, appOrigin);
      prefill = null;
      var q = outbox;
      outbox = [];
      q.forEach(post);
      if (isOpen) frame.focus();
      emit("ready");
    } else if (type === "height" && typeof m.height === "number") layout(Math.ceil(m.height));
    else if (type === "sso-request") { wanted = true; deliver(); }
    else if (type === "close") hide();
    else if (type === "language") relabel(m.locale);
    else if (type === "unread" && typeof m.count === "number") { setUnread(m.count); emit("unread", { count: m.count }); }
    else if (type === "ticket-created" && typeof m.code === "string") emit("ticket:created", { code: m.code });
  });
  function resized() { if (box) { layout(0); setLauncher(showLauncher); } }
  w.addEventListener("resize", resized);
  if (w.visualViewport) {
    w.visualViewport.addEventListener("resize", resized);
    w.visualViewport.addEventListener("scroll", resized);
  }

  var commands = {
    open: show,
    close: hide,
    toggle: toggle,
    launcher: setLauncher,
    prefill: function (p) {
      if (!p || typeof p !== "object") return;
      var clean = {};
      ["department", "service", "subject", "description"].forEach(function (k) {
        if (typeof p[k] === "string") clean[k] = p[k];
      });
      if (ready) post({ type: P + "prefill", prefill: clean });
      else prefill = clean;
    },
    "new-ticket": function () { post({ type: P + "new-ticket" }); show(); },
    locale: function (l) {
      if (l !== "it" && l !== "en") return;
      locale = l;
      // Once the app is there, it says which language it shows (a choice of the customer's wins).
      if (!ready) relabel(l);
      post({ type: P + "locale", locale: l });
    },
    sso: function (f) {
      if (typeof f !== "function") return;
      var had = sso;
      sso = f;
      // Before ready, the app learns it from the init message.
      if (ready && !had) post({ type: P + "sso-available" });
    },
    logout: function () { if (frame) post({ type: P + "logout" }); },
    on: function (name, f) {
      if (typeof f !== "function") return;
      (handlers[name] = handlers[name] || []).push(f);
      if (name === "ready" && ready) f({});
      if (name === "unread" && unread !== null) f({ count: unread });
    }
  };
  function run(args) {
    var f = commands[args[0]];
    if (f) f(args[1], args[2]);
  }
  var api = function () { run(arguments); };
  api.loaded = true;
  var queued = (old && old.q) || [];
  w.Helpdesk = api;
  // Commands the host queued before we arrived run once the launcher is there.
  function start() {
    build();
    queued.forEach(run);
    var mode = data.preload, c = navigator.connection;
    if (mode === "") mode = "now";
    if (mode !== undefined && !/^(idle|now|off)$/.test(mode)) console.warn("Helpdesk: data-preload=\"" + mode + "\" is not idle, now or off: idle");
    if (mode === "now") return makeFrame();
    if (mode === "off" || (c && c.saveData)) return;
    // After the page's own load, when the browser has nothing else to do (at most 3 s later).
    var idle = function () {
      if (w.requestIdleCallback) requestIdleCallback(makeFrame, { timeout: 3000 });
      else setTimeout(makeFrame, 200);
    };
    if (d.readyState === "complete") idle();
    else w.addEventListener("load", idle);
  }
  if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", start);
  else start();
})(window, document);
