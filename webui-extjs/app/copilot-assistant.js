/*
 * Assistant: chat per conversation. Questions go out with startQuery and the answer is
 * polled with getQueryResult (never one long request: OMV's nginx cuts PHP at 60 s),
 * with a progress bar and a cancel button while waiting.
 */
(function () {
  'use strict';
  var Ext = window.Ext6;
  var C = window.OmvCopilot;
  var POLL_MS = 1000;
  var CONTEXTS = [['', 'Auto'], ['storage', 'Storage'], ['network', 'Network'], ['service', 'Services'],
    ['performance', 'Performance'], ['security', 'Security'], ['general', 'General']];

  /** Answer JSON (contracts.md "Assist") -> HTML with data-* hooks for the click handler. */
  C.renderAnswer = function (a, idx) {
    var h = C.h, out = [];
    var conf = Math.max(0, Math.min(1, Number(a.confidence) || 0));
    var confCls = conf >= 0.7 ? 'ocp-ok' : (conf >= 0.4 ? 'ocp-warn' : 'ocp-bad');
    out.push('<div class="ocp-answer-head">');
    if (a.mode === 'kb_only') { out.push(C.badge('KB-only', 'ocp-info ocp-kbonly')); }
    if (a.mode === 'direct') { out.push(C.badge('Direct Chat', 'ocp-warn ocp-direct')); }
    if (a.mode === 'llm') { out.push(C.badge((a.provider || 'LLM') + (a.model ? ' · ' + a.model : ''))); }
    if (a.context) { out.push(C.badge('Specialist: ' + a.context, 'ocp-context')); }
    out.push('<span class="ocp-conf" title="confidence ' + h(a.confidence_label || '') + '">Confidence ' +
      '<span class="ocp-bar ocp-bar-small"><span class="ocp-bar-fill ' + confCls + '" style="width:' + Math.round(conf * 100) + '%"></span></span> ' +
      Math.round(conf * 100) + '%' + (a.confidence_label ? ' (' + h(a.confidence_label) + ')' : '') + '</span>');
    out.push('</div>');
    (a.notices || []).forEach(function (n) { out.push('<div class="ocp-notice">' + h(typeof n === 'string' ? n : (n.message || JSON.stringify(n))) + '</div>'); });
    if ((a.matched_patterns || []).length) {
      out.push('<div class="ocp-chips">Matched patterns: ' + a.matched_patterns.map(function (m) {
        return '<a href="#" class="ocp-chip" data-pattern="' + h(m.pattern_id) + '" title="score ' + h(m.score) + '">' + h(m.title || m.pattern_id) + '</a>';
      }).join(' ') + '</div>');
    }
    if (a.analysis) { out.push('<h4>Analysis</h4><div class="ocp-analysis">' + h(a.analysis).replace(/\n/g, '<br>') + '</div>'); }
    if ((a.possible_causes || []).length) {
      out.push('<h4>Possible causes</h4><ul class="ocp-list">' + a.possible_causes.map(function (c) {
        return '<li>' + h(c.cause || c) + (c.likelihood ? ' ' + C.badge(c.likelihood) : '') + '</li>';
      }).join('') + '</ul>');
    }
    if ((a.suggested_diagnostics || []).length) {
      // Risk is the server's (assist/risk.py); Run exists only for a catalogue probe and sends the command shown.
      out.push('<h4>Diagnostics</h4><ul class="ocp-list">' + a.suggested_diagnostics.map(function (d, i) {
        return '<li>' + (d.command ? '<span title="' + h(d.risk_reason) + '">' + C.severityBadge(d.risk) + '</span> ' : '') +
          '<b>' + h(d.name) + '</b>' + (d.command ? ' <code>' + h(d.command) + '</code>' : '') +
          (d.probe && d.command ? ' <a href="#" class="ocp-btn" data-probe="' + idx + ':' + i + '">Run</a>' : '') +
          (d.pattern_id ? ' <a href="#" class="ocp-link" data-pattern="' + h(d.pattern_id) + '">pattern ' + h(d.pattern_id) + '</a>' : '') +
          (d.purpose ? '<div class="ocp-muted">' + h(d.purpose) + '</div>' : '') + '<pre class="ocp-probe-out" hidden></pre></li>';
      }).join('') + '</ul>');
    }
    if ((a.recommended_actions || []).length) {
      out.push('<h4>Actions</h4><ul class="ocp-list">' + a.recommended_actions.map(function (r, i) {
        return '<li><span title="' + h(r.risk_reason) + '">' + C.severityBadge(r.risk || 'unknown') + '</span> <b>' + h(r.action) + '</b>' +
          (r.command ? '<div><code>' + h(r.command) + '</code> <a href="#" class="ocp-btn" data-copy="' + idx + ':' + i + '">Copy</a></div>' : '') +
          (r.explanation ? '<div class="ocp-muted">' + h(r.explanation) + '</div>' : '') + '</li>';
      }).join('') + '</ul>');
    }
    if ((a.follow_up_questions || []).length) {
      out.push('<h4>Follow-up questions</h4><div>' + a.follow_up_questions.map(function (q) {
        return '<a href="#" class="ocp-followup" data-followup="' + h(q) + '">' + h(q) + '</a>';
      }).join(' ') + '</div>');
    }
    if (a.trace_id) { out.push('<div class="ocp-muted">Trace: <a href="#" class="ocp-link" data-trace="' + h(a.trace_id) + '">' + h(a.trace_id) + '</a></div>'); }
    if ((a.matched_patterns || []).length) {
      out.push('<div class="ocp-feedback">Helpful? <a href="#" class="ocp-thumb" data-feedback="up" data-answer="' + idx + '" title="Helpful">Yes</a> ' +
        '<a href="#" class="ocp-thumb" data-feedback="down" data-answer="' + idx + '" title="Not helpful">No</a></div>');
    }
    return '<div class="ocp-answer">' + out.join('') + '</div>';
  };

  C.createAssistant = function (app) {
    var answers = [];        // rendered answers, for copy / feedback lookups
    var conversationId = null;
    var job = null;          // {id, timer, cancelled}

    var convStore = Ext.create('Ext.data.Store', {fields: ['id', 'title', 'updated_at']});

    var transcript = Ext.create('Ext.panel.Panel', {
      region: 'center', scrollable: 'y', bodyPadding: 10, cls: 'ocp-transcript', itemId: 'transcript',
      html: '<div class="ocp-log"><div class="ocp-muted ocp-empty">Ask a question about this NAS, e.g. "Why is my SMB share slow?" Enter sends, Shift+Enter adds a line.</div></div>'
    });

    function logEl() { return transcript.body && transcript.body.dom.querySelector('.ocp-log'); }
    function resetLog(html) { var l = logEl(); if (l) { l.innerHTML = html || ''; } }

    var progress = Ext.create('Ext.ProgressBar', {hidden: true, flex: 1, itemId: 'progress'});

    var input = Ext.create('Ext.form.field.TextArea', {
      flex: 1, itemId: 'question', emptyText: 'Ask Co-Pilot… (Enter sends)', height: 54, enforceMaxLength: true, maxLength: 4000,
      enableKeyEvents: true,
      listeners: {
        keydown: function (f, e) {
          if (e.getKey() === e.ENTER && !e.shiftKey) { e.preventDefault(); send(); }
        }
      }
    });

    var contextCombo = Ext.create('Ext.form.field.ComboBox', {
      fieldLabel: 'Specialist', labelWidth: 60, width: 190, store: CONTEXTS, value: '', editable: false, itemId: 'context'
    });
    var directBtn = Ext.create('Ext.button.Button', {
      text: 'Direct Chat', enableToggle: true, itemId: 'direct',
      tooltip: 'Direct Chat: send the question to the LLM without the knowledge base and diagnostics routing',
      toggleHandler: function (b, on) { b.setText(on ? 'Direct Chat: ON' : 'Direct Chat'); b[on ? 'addCls' : 'removeCls']('ocp-direct-on'); }
    });
    var sendBtn = Ext.create('Ext.button.Button', {text: 'Send', itemId: 'send', handler: function () { send(); }});
    var cancelBtn = Ext.create('Ext.button.Button', {text: 'Cancel', itemId: 'cancel', hidden: true, handler: function () { cancel(); }});

    function append(html, cls) {
      var log = logEl();
      if (!log) { return null; }
      var empty = log.querySelector('.ocp-empty');
      if (empty) { log.removeChild(empty); }
      var div = document.createElement('div');
      div.className = 'ocp-msg ' + (cls || '');
      div.innerHTML = html;
      log.appendChild(div);
      transcript.updateLayout();
      transcript.scrollTo(0, 1e9);
      return div;
    }

    var lastQuestion = null;
    function showQuestion(q) { lastQuestion = q; append('<div class="ocp-q">' + C.h(q) + '</div>', 'ocp-msg-q'); }

    function showAnswer(a, question, live) {
      answers.push(Ext.apply({_question: question || lastQuestion}, a));
      append(C.renderAnswer(a, answers.length - 1), 'ocp-msg-a');
      if (a.conversation_id) { conversationId = a.conversation_id; }
      if (live) { loadConversations(); }
    }

    function busy(on) {
      progress.setVisible(on);
      if (on) { progress.wait({interval: 200, text: 'Thinking…'}); } else { progress.reset(); }
      cancelBtn.setVisible(on);
      sendBtn.setDisabled(on);
    }

    function finish() {
      if (job && job.timer) { clearTimeout(job.timer); }
      job = null;
      busy(false);
    }

    function poll() {
      if (!job) { return; }
      var current = job;
      app.call('getQueryResult', {job_id: current.id}).then(function (r) {
        if (job !== current) { return; }
        r = r || {};
        var status = String(r.status || r.state || '').toLowerCase();
        var answer = r.answer || r.result || (r.analysis !== undefined ? r : null);
        if (answer && (status === '' || status === 'done' || status === 'finished' || status === 'completed' || status === 'succeeded' || status === 'ok')) {
          finish();
          showAnswer(answer, null, true);
        } else if (status === 'cancelled' || status === 'canceled') {
          finish();
          append('<div class="ocp-muted">Cancelled.</div>');
        } else if (status === 'error' || status === 'failed' || r.error) {
          finish();
          var msg = r.error && (r.error.message || r.error);
          append('<div class="ocp-error">The question failed: ' + C.h(msg || 'unknown error') + '. Try again or rephrase.</div>');
        } else {
          if (r.progress !== undefined || r.stage) { progress.updateText((r.stage || 'Working') + '…'); }
          current.timer = setTimeout(poll, POLL_MS);
        }
      }).catch(function (e) {
        if (job !== current) { return; }
        finish();
        append(C.errorHtml('Could not get the answer', e));
        app.handleError(e);
      });
    }

    function send(text) {
      var q = (text !== undefined ? text : input.getValue() || '').trim();
      if (!q || job) { return; }
      input.setValue('');
      showQuestion(q);
      var params = {query: q, direct: !!directBtn.pressed};
      if (contextCombo.getValue()) { params.context = contextCombo.getValue(); }
      if (conversationId) { params.conversation_id = conversationId; }
      job = {id: null, timer: null};
      var mine = job;
      busy(true);
      app.call('startQuery', params).then(function (r) {
        if (job !== mine) { return; }
        if (r && r.job_id) {
          mine.id = r.job_id;
          if (r.conversation_id) { conversationId = r.conversation_id; }
          poll();
        } else if (r && r.analysis !== undefined) {
          finish();
          showAnswer(r, null, true);
        } else {
          finish();
          append('<div class="ocp-error">The server did not start the question (no job id). Try again.</div>');
        }
      }).catch(function (e) {
        if (job !== mine) { return; }
        finish();
        append(C.errorHtml('Could not ask', e));
        app.handleError(e);
      });
    }

    function cancel() {
      if (!job) { return; }
      var id = job.id;
      finish();
      append('<div class="ocp-muted">Cancelled.</div>');
      if (id) { app.call('cancelQuery', {job_id: id}).catch(function () { /* already finished */ }); }
    }

    function loadConversations() {
      // OMV's list datamodel requires start and limit.
      return app.call('getConversations', {start: 0, limit: 100}).then(function (r) {
        convStore.loadData(C.rows(r).map(function (c) {
          return {id: c.id || c.conversation_id, title: c.title || c.first_query || c.summary || (c.id || c.conversation_id), updated_at: c.updated_at || c.last_at || c.created_at};
        }));
      }).catch(function () { convStore.removeAll(); });
    }

    function openConversation(id) {
      conversationId = id;
      answers = [];
      resetLog('');
      app.call('getConversation', {id: id}).then(function (r) {
        var turns = C.rows(r && (r.turns || r.messages || r.queries) ? {data: r.turns || r.messages || r.queries} : r);
        turns.forEach(function (t) {
          if (t.query || t.question) { showQuestion(t.query || t.question); }
          var ans = t.answer || t.response || (t.analysis !== undefined ? t : null);
          if (ans && typeof ans === 'object') { showAnswer(ans); }
        });
        if (!turns.length) { append('<div class="ocp-muted">This conversation has no messages.</div>'); }
      }).catch(function (e) { append(C.errorHtml('Could not open the conversation', e)); });
    }

    function newConversation() {
      if (job) { cancel(); }
      conversationId = null;
      answers = [];
      resetLog('<div class="ocp-muted ocp-empty">New conversation. Ask a question.</div>');
      input.focus();
    }

    var panel = Ext.create('Ext.panel.Panel', {
      title: 'Assistant', itemId: 'assistant', layout: 'border',
      items: [
        {xtype: 'grid', region: 'west', width: 220, split: true, collapsible: true, title: 'Conversations', itemId: 'conversations',
          store: convStore, hideHeaders: true, emptyText: 'No conversations yet.',
          columns: [{dataIndex: 'title', flex: 1, renderer: function (v, m, r) {
            return C.h(v) + '<div class="ocp-muted">' + C.time(r.get('updated_at')) + '</div>';
          }}],
          tbar: [{text: 'New conversation', itemId: 'newConv', handler: newConversation}],
          listeners: {itemclick: function (g, rec) { openConversation(rec.get('id')); }}},
        {xtype: 'panel', region: 'center', layout: 'border', items: [
          transcript,
          {xtype: 'container', region: 'south', height: 96, padding: 6, layout: {type: 'vbox', align: 'stretch'}, items: [
            {xtype: 'container', layout: {type: 'hbox', align: 'stretch'}, height: 54, items: [input, {xtype: 'container', width: 6}, sendBtn]},
            {xtype: 'container', layout: {type: 'hbox', align: 'middle'}, margin: '6 0 0 0', items: [
              contextCombo, {xtype: 'container', width: 8}, directBtn, {xtype: 'container', width: 8}, progress, {xtype: 'container', width: 6}, cancelBtn
            ]}
          ]}
        ]}
      ]
    });

    panel.on('afterrender', function () {
      transcript.body.on('click', function (ev, el) {
        ev.preventDefault();
        var d = el.dataset;
        if (d.pattern) { app.show('knowledge', {pattern_id: d.pattern}); }
        else if (d.trace) { app.show('traces', {id: d.trace}); }
        else if (d.probe) {
          var at = d.probe.split(':'), an = answers[+at[0]], diag = an && an.suggested_diagnostics[+at[1]];
          var pre = el.parentNode.querySelector('.ocp-probe-out');
          if (!diag || !diag.probe || !pre) { return; }
          pre.hidden = false;
          pre.textContent = '$ ' + diag.command + '\n(running…)';
          app.call('runProbe', {command: diag.command}).then(function (r) {
            var res = r.result || {};
            pre.textContent = '$ ' + r.command + '\n' + (res.error ? res.error + '\n' : '') + (res.stdout || '') + (res.stderr || '');
          }).catch(function (e) { pre.textContent = '$ ' + diag.command + '\n' + C.explain(e); });
        }
        else if (d.followup) { send(d.followup); }
        else if (d.copy) {
          var parts = d.copy.split(':'), a = answers[+parts[0]], act = a && a.recommended_actions[+parts[1]];
          if (act) { C.copy(act.command).then(function () { C.toast('Command copied to the clipboard.'); }); }
        } else if (d.feedback) {
          var ans = answers[+d.answer] || {};
          var mp = (ans.matched_patterns || [])[0];
          if (!mp) { return; }
          // Knowledge feedback rates the best-matching pattern for this question.
          var fb = {pattern_id: mp.pattern_id, helpful: d.feedback === 'up'};
          if (ans._question) { fb.query = String(ans._question).slice(0, 500); }  // a string or absent (OMV's datamodel)
          app.call('feedback', fb)
            .then(function () {
              Ext.fly(el.parentNode).addCls('ocp-feedback-done');
              el.parentNode.innerHTML = 'Thanks for the feedback.';
            })
            .catch(function (e) { C.toast('Feedback not saved: ' + C.explain(e)); });
        }
      }, null, {delegate: 'a'});
      loadConversations();
    }, null, {single: true});

    panel.ask = send;
    panel.showAnswer = showAnswer;  // also used by the browser tests to render a contract-shaped answer
    return panel;
  };
}());
