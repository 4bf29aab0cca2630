/*
 * OMV Co-Pilot loader — injected into OMV's index.html by the nginx drop-in
 * (etc/nginx/openmediavault-webgui.d/openmediavault-copilot.conf). It must be inert on
 * every page but the Co-Pilot routes: it only watches the hash. On "#/diagnostics/copilot"
 * and "#/diagnostics/copilot/panel[/<tab>[/<id>]]" it loads the panel's CSS/JS from /copilot/
 * (once), mounts the panel into that route's blankPage inside OMV's frame and tells it the
 * hash (the tab to show); on leaving it unmounts and disables the CSS. OMV's router makes a
 * new blankPage when the route changes shape (a deep link's tab/id -> a tab): the mounted
 * panel moves into it instead of being built again. The panel's appearance follows body.omv-dark-theme live.
 */
(function () {
  'use strict';
  // OMV injects plugin routes only under its own top-level modules (first URL segment), so
  // the route is e.g. /diagnostics/copilot; /copilot/panel is accepted too.
  // Only the panel's own routes: #/diagnostics/copilot/settings… are OMV's own form pages.
  var ROUTE = /^#\/(?:[a-z-]+\/)?copilot(?:\/panel(?:\/[^/?]+){0,2})?\/?(?:\?|$)/;
  var PANEL = '#/diagnostics/copilot/panel';
  var BASE = '/copilot/';
  var CSS = ['ext/theme/theme-classic-sandbox-all.css', 'ext/charts-sandbox.css', 'copilot-theme.css', 'copilot.css', 'copilot-dashboard.css'];
  var JS = ['ext/ext-all-sandbox.js', 'ext/charts-sandbox.js', 'copilot-core.js', 'copilot-dashboard.js',
    'copilot-assistant.js', 'copilot-pages.js', 'copilot-changes.js', 'copilot-app.js'];
  var links = [], loading = null, lastHash = null, mountedHost = null, tries = 0;

  function loadScripts() {
    if (loading) { return loading; }
    loading = JS.reduce(function (p, src) {
      return p.then(function () {
        return new Promise(function (resolve, reject) {
          var s = document.createElement('script');
          s.src = BASE + src;
          s.onload = resolve;
          s.onerror = function () { reject(new Error('could not load ' + BASE + src)); };
          document.head.appendChild(s);
        });
      });
    }, Promise.resolve());
    loading.catch(function () { loading = null; });
    return loading;
  }

  function css(on) {
    if (on && !links.length) {
      CSS.forEach(function (href) {
        var l = document.createElement('link');
        l.rel = 'stylesheet';
        l.href = BASE + href;
        l.setAttribute('data-copilot', '1');
        document.head.appendChild(l);
        links.push(l);
      });
    }
    links.forEach(function (l) { l.disabled = !on; });
  }

  /** The blank page's element inside OMV's frame (mat-sidenav-content holds the routed page). */
  function findHost() {
    var content = document.querySelector('mat-sidenav-content');
    if (!content) { return null; }
    // Only OMV's blankPage component (the panel's route); never over another page's content.
    return content.querySelector('omv-blank-page');
  }

  function unmount() {
    if (window.OmvCopilot && window.OmvCopilot.unmount) { window.OmvCopilot.unmount(); }
    mountedHost = null;
    css(false);
  }

  function mount() {
    var host = findHost();
    if (!host) {
      if (tries++ < 100) { setTimeout(function () { if (ROUTE.test(location.hash)) { mount(); } }, 100); }
      return;
    }
    var C = window.OmvCopilot, mounted = C._mounted;
    if (host === mountedHost && host.querySelector('.ocp-root')) { C.followHash(); return; }
    mountedHost = host;
    if (mounted && !mounted.wrap.isConnected) {
      host.appendChild(mounted.wrap);  // the same panel, moved into the route's new page
      mounted.app.reattached();
      C.followHash();
      return;
    }
    C.mount(host, {transport: 'omv', dark: isDark(), reserve: 16, route: PANEL});
  }

  /** OMV's dark appearance: its app puts omv-dark-theme on <body> (and flips it at run time). */
  function isDark() { return document.body.classList.contains('omv-dark-theme'); }

  new MutationObserver(function () {
    if (mountedHost && window.OmvCopilot && window.OmvCopilot.setDark) { window.OmvCopilot.setDark(isDark()); }
  }).observe(document.body, {attributes: true, attributeFilter: ['class']});

  function check() {
    var hash = location.hash;
    // OMV's router replaced the route's page (tab -> tab/id): move the panel into the new one.
    if (mountedHost && !mountedHost.isConnected && ROUTE.test(hash)) { tries = 0; mount(); }
    if (hash === lastHash) { return; }
    lastHash = hash;
    if (ROUTE.test(hash)) {
      css(true);
      tries = 0;
      loadScripts().then(function () { if (ROUTE.test(location.hash)) { window.Ext6.onReady(mount); } })
        .catch(function (e) { if (window.console) { window.console.warn('OMV Co-Pilot: ' + e.message); } });
    } else if (mountedHost || links.length) {
      unmount();
    }
  }

  // Angular's hash router navigates with pushState (no hashchange event), so also poll cheaply.
  window.addEventListener('hashchange', check);
  window.addEventListener('popstate', check);
  setInterval(check, 300);
  check();
}());
