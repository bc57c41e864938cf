// Loader for the control panel: <script src="https://helpdesk.smacloud.it/PanelNML/widget.js" defer></script>
// adds a button that opens the helpdesk in an iframe. The app never assumes it is the top window.
(function () {
  var script = document.currentScript;
  var base = script ? script.src.replace(/widget\.js(\?.*)?$/, "") : "/";
  var button = document.createElement("button");
  button.type = "button";
  button.textContent = "Assistenza";
  button.setAttribute("aria-haspopup", "dialog");
  button.style.cssText = "position:fixed;right:1rem;bottom:1rem;z-index:2147483000;padding:.7rem 1.1rem;border:0;border-radius:2rem;background:#0b5cad;color:#fff;font:600 1rem system-ui,sans-serif;cursor:pointer";
  var frame = null;
  button.addEventListener("click", function () {
    if (frame) {
      var open = frame.style.display !== "none";
      frame.style.display = open ? "none" : "block";
      button.setAttribute("aria-expanded", String(!open));
      return;
    }
    frame = document.createElement("iframe");
    frame.src = base;
    frame.title = "Assistenza clienti";
    frame.style.cssText = "position:fixed;right:1rem;bottom:4.5rem;width:min(28rem,calc(100vw - 2rem));height:min(44rem,calc(100vh - 6rem));border:1px solid #c9d2dc;border-radius:.75rem;box-shadow:0 8px 30px rgba(0,0,0,.2);background:#fff;z-index:2147483000";
    document.body.appendChild(frame);
    button.setAttribute("aria-expanded", "true");
  });
  document.addEventListener("DOMContentLoaded", function () { document.body.appendChild(button); });
  if (document.readyState !== "loading") document.body.appendChild(button);
})();
