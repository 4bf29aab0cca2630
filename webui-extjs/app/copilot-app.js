/*
 * The app shell: OmvCopilot.mount(hostElement, {transport: "omv"|"dev", token, route, dark})
 * builds the tab panel inside hostElement and sizes it to it; OmvCopilot.unmount() destroys it.
 *
 * The address follows the tab: "<route>/<tab>[/<id>]" (route "#/diagnostics/copilot/panel"
 * inside OMV, "#" in development). A tab change sets location.hash, so OMV's router, its
 * breadcrumb and the browser's history see it; OmvCopilot.followHash() (the loader's hash
 * watch, or hashchange here) shows what the address names, so Back and deep links work.
 * The appearance follows OMV's (body.omv-dark-theme, via the loader) or, in development,
 * the browser's prefers-color-scheme: OmvCopilot.setDark(on).
 */
(function () {
  'use strict';
  var Ext = window.Ext6;
  var C = window.OmvCopilot;
  /** "<base>/<tab>[/<id>]" -> {tab, id}; null when the hash is not the panel's. */
  C.parseRoute = function (hash, base) {
    if (hash.indexOf(base) !== 0) { return null; }
    var parts = hash.slice(base.length).split(/[?]/)[0].split('/').filter(Boolean);
    var id = null;
    if (parts[1]) { try { id = decodeURIComponent(parts.slice(1).join('/')); } catch (e) { id = parts.slice(1).join('/'); } }
    return {tab: parts[0] || null, id: id};
  };

  /** Dark or light, on the panel and on its floating windows/menus (rendered outside it, under <body>). */
  C.setDark = function (on) {
    var s = C._mounted;
    if (s) { s.wrap.classList.toggle('ocp-dark', !!on); }
    document.documentElement.classList.toggle('ocp-dark-doc', !!on);
  };

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
    var base = opts.route || '#';
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
      /** Show a tab (and an item of it: navOpts.id / pattern_id); the address follows unless quiet. */
      show: function (page, navOpts, quiet) {
        var p = root && root.child('#' + page);
        if (!p || !p.isXType('panel')) { return; }
        navOpts = navOpts || {};
        var id = navOpts.pattern_id || navOpts.id || null;
        routing = true;
        try { root.setActiveTab(p); } finally { routing = false; }
        if (p.navigate) { p.navigate(navOpts); }
        // The address names the tab only: an item in it too would change the shape of OMV's route
        // (panel/:tab -> panel/:tab/:id), and OMV would replace the page under the open panel.
        // Deep links to an item (…/knowledge/<id>) are followed all the same (followHash).
        if (!quiet) { push(page, null); }
        current = {tab: page, id: quiet && id ? String(id) : null};
      },
      /** The hash of a tab (and item): for links that open it. */
      href: function (page, id) { return base + '/' + page + (id ? '/' + encodeURIComponent(id) : ''); }
    };
    var routing = false, current = {tab: null, id: null};

    /** A new history entry for the tab (OMV's router takes it from there: breadcrumb, Back). */
    function push(page, id) {
      var want = app.href(page, id);
      current = {tab: page, id: id ? String(id) : null};
      if (window.location.hash !== want) { window.location.hash = want; }
    }

    /** After the loader moved the panel into OMV's new page for the route: lay it out again. */
    app.reattached = function () {
      size();
      if (root) { root.updateLayout(); }
      Ext.ComponentQuery.query('window').forEach(function (w) { if (w.isVisible()) { w.updateLayout(); } });
    };

    /** Show what the address names (Back/Forward, a deep link, OMV's breadcrumb). */
    app.followHash = function () {
      // Called only on the panel's own addresses: one without a tab ("#/diagnostics/copilot", or no hash) is the Dashboard.
      var r = C.parseRoute(window.location.hash, base) || {tab: null, id: null};
      if (!root) { return; }
      var tab = r.tab || 'dashboard';
      if (tab === current.tab && (r.id || null) === current.id) { return; }
      if (r.id) { app.show(tab, {id: r.id, pattern_id: r.id}, true); } else { app.show(tab, {}, true); }
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
        // Inside OMV the breadcrumb names Co-Pilot already; the strip keeps its width for the tabs.
        tabBar: {items: [{xtype: 'tbfill'}, {xtype: 'tbtext', cls: 'ocp-mode', hidden: mode === 'omv', text: 'Co-Pilot · development'},
          // The one OMV-native page of Co-Pilot besides the dashboard widgets: its settings form.
          {xtype: 'component', itemId: 'settingsLink', hidden: mode !== 'omv', cls: 'ocp-settings-link',
            html: '<a href="#/diagnostics/copilot/settings" title="Co-Pilot settings (LLM providers, notifications, thresholds)">' +
              C.icon('cog') + '<span>Settings</span></a>'}]},
        items: [C.createDashboard(app), C.createAssistant(app), C.createKnowledge(app), C.createDiagnostics(app),
          C.createTraces(app), C.createAlerts(app), C.createHistory(app), C.createChanges(app)],
        listeners: {tabchange: function (tp, card) { if (!routing) { push(card.getItemId(), null); } }}
      });
      state.root = root;
      root.items.each(function (p) { if (p.tab) { p.tab.setIconCls('ocp-ico ocp-ico-' + p.getItemId()); } });
      size();
      app.followHash();
      wrap.setAttribute('data-ready', '1');
    }

    var state = {wrap: wrap, app: app, onResize: size, root: null};
    window.addEventListener('resize', size);
    if (window.ResizeObserver) {
      state.observer = new ResizeObserver(function () { size(); });
      state.observer.observe(host);
    }
    C._mounted = state;
    C.setDark(!!opts.dark);
    C.app = app;
    C.followHash = app.followHash;
    return app;
  };

  C.unmount = function () {
    var s = C._mounted;
    if (!s) { return; }
    C._mounted = null;
    C.followHash = function () {};
    document.documentElement.classList.remove('ocp-dark-doc');
    window.removeEventListener('resize', s.onResize);
    if (s.observer) { s.observer.disconnect(); }
    if (s.root && !s.root.destroyed) { s.root.destroy(); }
    if (s.wrap.parentNode) { s.wrap.parentNode.removeChild(s.wrap); }
  };
}());
