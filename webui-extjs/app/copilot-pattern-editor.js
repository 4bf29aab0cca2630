/*
 * Pattern editor for the Knowledge page: edit a pattern's YAML, validate it, save it into
 * the daemon's local overlay, or revert an edited shipped pattern.
 *
 * Loaded on first use (C.loadScript) so the other pages do not pay for it. Everything goes
 * through the RPC method table (validatePattern, setPattern, deletePattern), so it works
 * the same through OMV's /rpc.php and the dev bridge. Save validates first: problems come
 * back as a 200 {valid, problems} list, so the user sees each field + reason and the
 * browser console stays clean (a rejected PUT would log a 400).
 */
(function () {
  'use strict';
  var Ext = window.Ext6;
  var C = window.OmvCopilot;
  var h = C.h;

  C.PATTERN_TEMPLATE = [
    '# A new troubleshooting pattern. pattern_id: 3-64 of a-z, 0-9, - and _.',
    'pattern_id: my-new-pattern',
    'title: Short description of the problem',
    'category: storage  # storage, network, services, performance, security, hardware or backup',
    'symptoms:',
    '  - what the user notices',
    'keywords:',
    '  - a word users type',
    'diagnostics:  # catalogue probes the agent may run (GET /api/v1/knowledge/probes lists them)',
    '  - name: Filesystem usage',
    '    probe: disk-free',
    '  - name: SMART health',
    '    probe: smart-health',
    '    params: {device: "{device}"}  # a literal value, or {name} for the user to fill in',
    'solutions:  # shown to the admin, never run',
    '  - priority: 1',
    '    action: What to do first',
    '    explanation: Why it helps',
    '    risk: read-only  # read-only, changes-config, restarts-service or data-risk',
    'references:',
    '  - https://docs.openmediavault.org/',
    'confidence: 0.5',
    ''
  ].join('\n');

  function problemsHtml(problems) {
    return '<div class="ocp-error"><b>' + problems.length + ' problem' + (problems.length === 1 ? '' : 's') +
      ' — fix ' + (problems.length === 1 ? 'it' : 'them') + ' and validate again:</b><ul class="ocp-list ocp-problems">' +
      problems.map(function (p) {
        return '<li><code>' + h(p.field) + '</code>: ' + h(p.reason) + '</li>';
      }).join('') + '</ul></div>';
  }

  /**
   * Open the editor inside ``host`` (the Knowledge panel, so it stays within the page frame and
   * its styles). opts: {id, yaml, source, overrides_shipped} of an existing pattern, or {} for a
   * new one. onChange(id, removed) runs after a save, revert or delete.
   */
  C.openPatternEditor = function (app, host, opts, onChange) {
    opts = opts || {};
    if (C.patternEditor && !C.patternEditor.destroyed) {  // one editor at a time: no two unsaved versions
      C.patternEditor.toFront();
      C.toast('Save or cancel the open pattern editor first.');
      return C.patternEditor;
    }
    var isNew = !opts.id;
    var busy = false;

    function status(html) { win.down('#patternProblems').update(html); }

    function setBusy(on) {
      busy = on;
      win.down('#validatePattern').setDisabled(on);
      win.down('#savePattern').setDisabled(on);
    }

    function yamlText() { return win.down('#patternYaml').getValue(); }

    /** Promise of the validation answer, shown in the problems area. */
    function validate() {
      var params = {yaml: yamlText()};
      if (!isNew) { params.pattern_id = opts.id; }
      status('<div class="ocp-muted">Validating…</div>');
      return app.call('validatePattern', params).then(function (r) {
        if (r.valid) {
          status('<div class="ocp-ok-text">Valid' + (r.pattern_id ? ': <code>' + h(r.pattern_id) + '</code>' : '') +
            (isNew && r.exists ? ' — a pattern with this id exists; saving replaces it with your version.' : '.') + '</div>');
        } else {
          status(problemsHtml(r.problems || []));
        }
        return r;
      });
    }

    function failed(what, e) {
      status('<div class="ocp-error">' + h(what) + ': ' + h(C.explain(e)) +
        (e && /directory/.test(e.message || '') ? ' Make that directory writable by the omv-copilot service, or set knowledge.local_patterns_dir.' : '') +
        '</div>');
    }

    function save() {
      if (busy) { return; }
      setBusy(true);
      validate().then(function (r) {
        if (!r.valid) { return null; }
        var id = isNew ? r.pattern_id : opts.id;
        return app.call('setPattern', {id: id, yaml: yamlText()}).then(function (p) {
          C.toast('Saved ' + id + ' as a local pattern.');
          win.close();
          if (onChange) { onChange(p.pattern_id || id, false); }
        });
      }).catch(function (e) { failed('Not saved', e); }).then(function () {
        if (!win.destroyed) { setBusy(false); }
      });
    }

    function revert() {
      var shipped = opts.overrides_shipped;
      Ext.Msg.confirm(shipped ? 'Revert to shipped' : 'Delete local pattern',
        shipped ? 'Discard your edit of ' + h(opts.id) + ' and use the shipped pattern again?'
          : 'Delete the local pattern ' + h(opts.id) + '? It is not shipped, so it will be gone.',
        function (answer) {
          if (answer !== 'yes') { return; }
          app.call('deletePattern', {id: opts.id}).then(function () {
            C.toast(shipped ? 'Reverted ' + opts.id + ' to the shipped pattern.' : 'Deleted ' + opts.id + '.');
            win.close();
            if (onChange) { onChange(opts.id, !shipped); }
          }).catch(function (e) { failed('Not reverted', e); });
        });
    }

    var win = Ext.create('Ext.window.Window', {
      title: isNew ? 'New pattern' : 'Edit pattern ' + C.h(opts.id) + (opts.source === 'local' ? ' (local)' : ''),  // titles render HTML
      // Not modal: Ext's modal mask lives in document.body, and inside OMV the panel's own stacking
      // context would put this window *under* that mask. The window floats above the page instead.
      itemId: 'patternEditor', cls: 'ocp-editor', modal: false, constrain: true, closable: true, renderTo: host.getEl(),
      width: Math.min(900, Math.max(320, host.getWidth() - 40)), height: Math.min(640, Math.max(360, host.getHeight() - 40)),
      layout: {type: 'vbox', align: 'stretch'}, bodyPadding: 8,
      items: [
        {xtype: 'component', cls: 'ocp-muted', margin: '0 0 6 0',
          html: isNew ? 'Write the new pattern in YAML (a template is filled in). It is saved in the local patterns directory.'
            : (opts.source === 'local' ? 'This is your local version.' : 'This is the shipped pattern; saving stores your edit as a local copy that replaces it (you can revert).')},
        {xtype: 'textareafield', itemId: 'patternYaml', flex: 1, value: isNew ? C.PATTERN_TEMPLATE : (opts.yaml || ''),
          fieldStyle: 'font-family: monospace; font-size: 12px; white-space: pre;', inputAttrTpl: 'spellcheck="false" wrap="off" aria-label="Pattern YAML"',
          enableKeyEvents: true, listeners: {keydown: function (f, e) {
            if (e.ctrlKey && e.getKey() === e.S) { e.preventDefault(); save(); }
          }}},
        {xtype: 'component', itemId: 'patternProblems', height: 130, scrollable: 'y', margin: '6 0 0 0',
          html: '<div class="ocp-muted">Validate checks the schema, the id and related patterns without saving. Ctrl+S saves.</div>'}
      ],
      bbar: [
        {text: opts.overrides_shipped ? 'Revert to shipped' : 'Delete local pattern', itemId: 'revertPattern',
          hidden: isNew || opts.source !== 'local', handler: revert},
        '->',
        {text: 'Validate', itemId: 'validatePattern', handler: function () {
          validate().catch(function (e) { failed('Could not validate', e); });
        }},
        {text: 'Save', itemId: 'savePattern', handler: save},
        {text: 'Cancel', itemId: 'cancelPattern', handler: function () { win.close(); }}
      ]
    });
    // Rendered into the Knowledge panel's element (not document.body) so it keeps the panel's
    // styles and, inside OMV, stays within the page frame and goes away with the panel.
    host.on('destroy', function () { if (!win.destroyed) { win.destroy(); } }, null, {single: true});
    C.patternEditor = win;
    win.show();
    win.down('#patternYaml').focus(false, 100);
    return win;
  };
}());
