/*
 * The page on its own (not injected into OMV): /ui/ from the daemon in development
 * ("dev" transport, bearer token), or /copilot/ on an OMV box opened in its own tab
 * ("omv" transport, session cookie). The token arrives in the URL fragment (#token=…),
 * which browsers never send to servers; it is kept in sessionStorage and removed from
 * the address bar at once. After that the hash is the panel's route ("#/alerts/12"): Back,
 * Forward and reloads keep the tab. The appearance follows the browser's light/dark preference.
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
  var dark = window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;
  window.Ext6.onReady(function () {
    var C = window.OmvCopilot;
    C.mount(document.body, {transport: dev ? 'dev' : 'omv', token: token, route: '#', dark: !!(dark && dark.matches)});
    window.addEventListener('hashchange', function () { C.followHash(); });
    if (dark && dark.addEventListener) { dark.addEventListener('change', function (e) { C.setDark(e.matches); }); }
  });
}());
