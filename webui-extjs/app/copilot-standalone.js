/*
 * The page on its own (not injected into OMV): /ui/ from the daemon in development
 * ("dev" transport, bearer token), or /copilot/ on an OMV box opened in its own tab
 * ("omv" transport, session cookie). The token arrives in the URL fragment (#token=…),
 * which browsers never send to servers; it is kept in sessionStorage and removed from
 * the address bar at once.
 */
(function () {
  'use strict';
  var dev = window.location.pathname.indexOf('/ui/') === 0;
  var token = null;
  if (dev) {
    var m = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
    if (m) {
      token = decodeURIComponent(m[1]);
      try { window.sessionStorage.setItem('omv-copilot-token', token); } catch (e) { /* private mode: keep it in memory */ }
      window.history.replaceState(null, '', window.location.pathname + window.location.search);
    } else {
      try { token = window.sessionStorage.getItem('omv-copilot-token'); } catch (e) { token = null; }
    }
  }
  window.Ext6.onReady(function () {
    window.OmvCopilot.mount(document.body, {transport: dev ? 'dev' : 'omv', token: token});
  });
}());
