/*
 * The app shell: OmvCopilot.mount(hostElement, {transport: "omv"|"dev", token}) builds
 * the tab panel inside hostElement and sizes it to it; OmvCopilot.unmount() destroys it.
 * No hash routing of its own: inside OMV the hash belongs to OMV's router.
 */
(function () {
  'use strict';
  var Ext = window.Ext6;
  var C = window.OmvCopilot;
  var PAGES = ['dashboard', 'assistant', 'knowledge', 'diagnostics', 'traces', 'alerts', 'history', 'changes'];

  function loginHtml(mode, err) {
    if (mode === 'omv') {
      return '<div class="ocp-login"><h2>Log in to OpenMediaVault first</h2><p>' + C.h(C.explain(err)) + '</p>' +
        '<p><a class="ocp-btn" href="/#/login" target="_top">Go to the OpenMediaVault login</a></p>' +
        '<p class="ocp-muted">After logging in, open Co-Pilot from the navigation again.</p></div>';
    }
    return '<div class="ocp-login"><h2>Co-Pilot needs the API token</h2><p>' + C.h(C.explain(err)) + '</p>' +
      '<p class="ocp-muted">"make run" prints the address, e.g. http://127.0.0.1:8888/ui/#token=…; the token is also in .dev/api-token.</p></div>';
  }

  C.mount = function (host, opts) {
    opts = opts || {};
    C.unmount();
    var mode = opts.transport === 'omv' ? 'omv' : 'dev';
    var transport = C.createTransport(mode, opts.token);
    var wrap = document.createElement('div');
    wrap.className = 'ocp-root' + (opts.dark ? ' ocp-dark' : '');
    wrap.setAttribute('data-copilot', mode);
    host.appendChild(wrap);
    var root = null;
    var loginShown = false;

    var app = {
      mode: mode,
      call: function (method, params) { return transport.call(method, params); },
      /** Session/token problems replace the whole panel with what to do. */
      handleError: function (err) {
        if (!err || loginShown || (err.kind !== 'login' && err.kind !== 'auth')) { return; }
        loginShown = true;
        if (root) { root.destroy(); root = null; }
        wrap.innerHTML = loginHtml(mode, err);
      },
      show: function (page, navOpts) {
        if (!root || PAGES.indexOf(page) < 0) { return; }
        var p = root.child('#' + page);
        root.setActiveTab(p);
        if (p.navigate) { p.navigate(navOpts || {}); }
      }
    };

    function size() {
      if (!root) { return; }
      // Fill the window below the panel's top edge (inside OMV the host element itself has no height).
      var top = wrap.getBoundingClientRect().top + (window.pageYOffset || 0);
      var w = Math.max(320, wrap.clientWidth), hgt = opts.height || Math.max(480, window.innerHeight - top - (opts.reserve || 0));
      root.setSize(w, hgt);
    }

    // One cheap call decides between the panel and the login message.
    transport.call('getStatus', {}).then(function () { build(); }, function (err) {
      if (err.kind === 'login' || err.kind === 'auth') { app.handleError(err); } else { build(); }
    });

    function build() {
      if (C._mounted !== state) { return; }
      root = Ext.create('Ext.tab.Panel', {
        renderTo: wrap, cls: 'ocp-tabs', itemId: 'copilotRoot', plain: false, width: wrap.clientWidth || 800, height: 600,
        tabBar: {items: [{xtype: 'tbfill'}, {xtype: 'tbtext', cls: 'ocp-mode', text: mode === 'omv' ? 'OMV Co-Pilot' : 'OMV Co-Pilot · development'}]},
        items: [C.createDashboard(app), C.createAssistant(app), C.createKnowledge(app), C.createDiagnostics(app),
          C.createTraces(app), C.createAlerts(app), C.createHistory(app), C.createChanges(app)]
      });
      state.root = root;
      size();
      wrap.setAttribute('data-ready', '1');
    }

    var state = {wrap: wrap, app: app, onResize: size, root: null};
    window.addEventListener('resize', size);
    if (window.ResizeObserver) {
      state.observer = new ResizeObserver(function () { size(); });
      state.observer.observe(host);
    }
    C._mounted = state;
    C.app = app;
    return app;
  };

  C.unmount = function () {
    var s = C._mounted;
    if (!s) { return; }
    C._mounted = null;
    window.removeEventListener('resize', s.onResize);
    if (s.observer) { s.observer.disconnect(); }
    if (s.root && !s.root.destroyed) { s.root.destroy(); }
    if (s.wrap.parentNode) { s.wrap.parentNode.removeChild(s.wrap); }
  };
}());
