/*
 * OMV Co-Pilot web UI — core: the ONE transport switch, helpers, error display.
 *
 * The app is the same in both places it runs; only the transport differs:
 *  - "omv": inside OpenMediaVault, POST /rpc.php {service: "Copilot", method, params}
 *    with OMV's session cookie (same origin, so the browser sends it).
 *  - "dev": `make run`, POST /api/v1/rpc {method, params} with the bearer token.
 * Both speak the RPC bridge's method table (docs/contracts.md "RPC bridge").
 * Built on the ExtJS 6.2 *sandbox* build (global Ext6, CSS prefix x6-) so nothing
 * leaks into OMV's own page.
 */
(function () {
  'use strict';
  var Ext = window.Ext6;
  var C = window.OmvCopilot = window.OmvCopilot || {};
  // Where the app's files are (/ui/ in development, /copilot/ inside OMV): lazy parts load from here.
  var me = document.currentScript && document.currentScript.src;
  C.base = me ? me.replace(/[^/]*$/, '') : '/copilot/';

  /** An error the UI can explain: kind is login | auth | network | http | rpc | cancelled. */
  function CopilotError(kind, message, code) {
    this.kind = kind;
    this.message = message;
    this.code = code;
  }
  CopilotError.prototype = Object.create(Error.prototype);
  C.CopilotError = CopilotError;

  /** Failed calls of this page ({method, status, code, message}): what went wrong, for support and tests. */
  C.failures = [];
  function remember(method, status, err) {
    err.method = method;
    if (C.failures.length < 200) { C.failures.push({method: method, status: status, code: err.code, kind: err.kind, message: err.message}); }
    return err;
  }

  /** Build the transport for a mode; call(method, params) -> Promise(result). */
  C.createTransport = function (mode, token) {
    function post(url, body, headers) {
      return fetch(url, {
        method: 'POST', credentials: 'same-origin', cache: 'no-store',
        headers: Ext.apply({'Content-Type': 'application/json', 'Accept': 'application/json'}, headers || {}),
        body: JSON.stringify(body)
      }).catch(function () {
        throw new CopilotError('network', 'The server did not answer. Check that ' +
          (mode === 'omv' ? 'OpenMediaVault' : 'the Co-Pilot daemon (make run)') + ' is running, then retry.');
      }).then(function (resp) {
        return resp.text().then(function (text) {
          var data = null;
          try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
          return {status: resp.status, data: data, text: text};
        });
      });
    }
    if (mode === 'omv') {
      return {
        mode: mode,
        call: function (method, params) {
          return post('/rpc.php', {service: 'Copilot', method: method, params: params || {}, options: null})
            .then(function (r) {
              var err = r.data && r.data.error;
              // OMV: 401 / E_SESSION_NOT_AUTHENTICATED (5001) / E_SESSION_TIMEOUT (5002).
              if (r.status === 401 || (err && (err.code === 5001 || err.code === 5002))) {
                throw remember(method, r.status, new CopilotError('login', 'You are not logged in to OpenMediaVault (or the session expired).', err && err.code));
              }
              if (err) {
                throw remember(method, r.status, new CopilotError('rpc', C.cleanMessage(err.message || ('error ' + err.code)), C.omvCode(err)));
              }
              if (!r.data) {
                throw remember(method, r.status, new CopilotError('http', 'OpenMediaVault answered HTTP ' + r.status + ' without JSON. Is the Co-Pilot plugin installed?'));
              }
              return r.data.response;
            });
        }
      };
    }
    return {
      mode: 'dev',
      call: function (method, params) {
        if (!token) {
          return Promise.reject(new CopilotError('auth', 'No API token. Open the address printed by "make run" (it ends in #token=...).'));
        }
        return post('/api/v1/rpc', {method: method, params: params || {}}, {'Authorization': 'Bearer ' + token})
          .then(function (r) {
            var err = r.data && r.data.error;
            if (r.status === 401) {
              throw remember(method, r.status, new CopilotError('auth', 'The API token was refused. Open the address printed by "make run" again.'));
            }
            if (err && typeof err === 'object') {
              throw remember(method, r.status, new CopilotError('rpc', err.message || err.code || ('HTTP ' + r.status), err.code));
            }
            if (r.status >= 400 || !r.data) {
              throw remember(method, r.status, new CopilotError('http', 'The daemon answered HTTP ' + r.status + (r.status === 404 ? ' (this daemon has no RPC bridge /api/v1/rpc)' : '') + '.'));
            }
            // The bridge may wrap like OMV ({response, error}) or answer directly.
            if (Object.prototype.hasOwnProperty.call(r.data, 'response') && Object.prototype.hasOwnProperty.call(r.data, 'error')) {
              return r.data.response;
            }
            return r.data;
          });
      }
    };
  };

  /** The daemon's error code inside an OMV RPC error, when the PHP service passes it on ("... [not_implemented]"). */
  C.omvCode = function (err) {
    var m = /\b(not_implemented|unknown_method)\b/.exec(String(err.message || ''));
    return m ? m[1] : err.code;
  };

  /** OMV error messages may carry a PHP trace; keep the first line. */
  C.cleanMessage = function (msg) {
    return String(msg || '').split('\n')[0];
  };

  /** HTML-escape anything. */
  C.h = function (v) {
    return Ext.String.htmlEncode(v === null || v === undefined ? '' : String(v));
  };

  /** Rows from a list-ish answer: an array, or {data|items|...: [...]}. */
  C.rows = function (x) {
    if (Array.isArray(x)) { return x; }
    if (!x || typeof x !== 'object') { return []; }
    var keys = ['data', 'items', 'results', 'patterns', 'alerts', 'traces', 'conversations', 'notes', 'issues', 'forecasts', 'steps', 'series', 'snapshots', 'messages', 'matches'];
    for (var i = 0; i < keys.length; i++) {
      if (Array.isArray(x[keys[i]])) { return x[keys[i]]; }
    }
    return [];
  };

  C.bytes = function (n) {
    if (n === null || n === undefined || isNaN(n)) { return '–'; }
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'], i = 0;
    n = Number(n);
    while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : n) + ' ' + units[i];
  };

  C.time = function (ts) {
    if (!ts) { return '–'; }
    var d = typeof ts === 'number' ? new Date(ts * 1000) : new Date(ts);
    return isNaN(d.getTime()) ? C.h(ts) : Ext.Date.format(d, 'Y-m-d H:i:s');
  };

  C.pct = function (v) {
    return (v === null || v === undefined || isNaN(v)) ? '–' : Number(v).toFixed(0) + '%';
  };

  /** The worst severity of the daemon's findings with this id and subject ('' when none holds).
   * The daemon judges (its findings thresholds); the page only shows the verdict. */
  C.findingSeverity = function (findings, id, subject) {
    var rank = {info: 1, warning: 2, critical: 3}, worst = '';
    (findings || []).forEach(function (f) {
      if (f && f.id === id && f.subject === subject && (rank[f.severity] || 0) > (rank[worst] || 0)) { worst = f.severity; }
    });
    return worst;
  };

  /** A usage bar (percent 0..100) coloured by the severity of its finding ('' or undefined: fine). */
  C.bar = function (percent, label, severity) {
    var p = Math.max(0, Math.min(100, Number(percent) || 0));
    var cls = {critical: 'ocp-bad', warning: 'ocp-warn'}[severity] || 'ocp-ok';
    return '<div class="ocp-bar" title="' + C.h(label || C.pct(p)) + '"><div class="ocp-bar-fill ' + cls + '" style="width:' + p + '%"></div>' +
      '<span class="ocp-bar-text">' + C.h(label || C.pct(p)) + '</span></div>';
  };

  /** An mdi icon (OMV's icon set), tinted by the text colour; the names are in copilot-theme.css. */
  C.icon = function (name) { return '<span class="ocp-ico ocp-ico-' + name + '" aria-hidden="true"></span>'; };

  C.badge = function (text, cls) {
    return '<span class="ocp-badge ' + (cls || '') + '">' + C.h(text) + '</span>';
  };

  C.severityBadge = function (sev) {
    var cls = {critical: 'ocp-bad', warning: 'ocp-warn', info: 'ocp-info', high: 'ocp-bad', medium: 'ocp-warn', low: 'ocp-ok',
      // the knowledge base's risk labels (knowledge/schema.yaml)
      'read-only': 'ocp-ok', 'changes-config': 'ocp-warn', 'restarts-service': 'ocp-warn', 'data-risk': 'ocp-bad',
      // the server's verdict for a command that is not a catalogue probe
      unverified: 'ocp-warn'}[String(sev || '').toLowerCase()] || '';
    return C.badge(String(sev || '').toLowerCase() === 'unverified' ? 'unverified — review before running' : (sev || 'unknown'), cls);
  };

  /** What to tell the user for an error: what happened and what to do. */
  C.explain = function (err) {
    if (!err) { return 'Unknown error.'; }
    if (err.kind === 'login') { return err.message + ' Log in to OpenMediaVault first, then reopen Co-Pilot.'; }
    if (err.code === 'unknown_method' || err.code === 'not_implemented') {
      return 'This version of the Co-Pilot daemon does not provide "' + (err.method || 'this') + '" yet; update the omv-copilot package to use it.';
    }
    if (err.kind === 'rpc') { return err.message; }
    return err.message || String(err);
  };

  /** Inline error block for a panel. */
  C.errorHtml = function (what, err) {
    return '<div class="ocp-error">' + C.h(what) + ': ' + C.h(C.explain(err)) + '</div>';
  };

  /** Copy text to the clipboard (falls back to a hidden textarea). */
  C.copy = function (text) {
    function fallback() {
      var ta = document.createElement('textarea');
      ta.value = text;
      ta.setAttribute('readonly', '');
      ta.style.position = 'fixed';
      ta.style.left = '-9999px';
      document.body.appendChild(ta);
      ta.select();
      try { document.execCommand('copy'); } catch (e) { /* nothing more to try */ }
      document.body.removeChild(ta);
      return Promise.resolve();
    }
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(fallback);
    }
    return fallback();
  };

  /** A feature whose daemon part is not in this version (the bridge answers 501). */
  C.notInstalled = function (err) {
    return !!err && (err.code === 'not_implemented' || err.code === 'unknown_method');
  };

  var scripts = {};
  /** Load one of the app's own scripts once (same origin: OMV's CSP allows only 'self'). */
  C.loadScript = function (name) {
    if (!scripts[name]) {
      scripts[name] = new Promise(function (resolve, reject) {
        var s = document.createElement('script');
        s.src = C.base + name;
        s.onload = resolve;
        s.onerror = function () { delete scripts[name]; reject(new Error('could not load ' + C.base + name + ' (run "make webui" again)')); };
        document.head.appendChild(s);
      });
    }
    return scripts[name];
  };

  var mermaidSeq = 0;
  /** Render Mermaid text into el as SVG (mermaid from npm, bundled, loaded on first use). */
  C.renderMermaid = function (el, text) {
    return C.loadScript('mermaid.min.js').then(function () {
      var m = window.mermaid;
      if (!C._mermaidReady) {
        m.initialize({startOnLoad: false, securityLevel: 'strict', theme: 'default', flowchart: {useMaxWidth: true}});
        C._mermaidReady = true;
      }
      mermaidSeq += 1;
      return m.render('ocp-mermaid-' + mermaidSeq, text).then(function (out) {
        el.innerHTML = out.svg;
        el.setAttribute('data-rendered', '1');
      });
    });
  };

  C.toast = function (text) {
    Ext.toast({html: C.h(text), align: 'br', slideInDuration: 200, hideDuration: 200, autoCloseDelay: 2500});
  };
}());
