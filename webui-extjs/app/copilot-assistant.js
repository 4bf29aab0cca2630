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
  var SETTINGS_URL = '/#/diagnostics/copilot/settings';

  /** The assistant's own stylesheet (copilot-assistant.css, classes copilot-as-*), added once next to this script. */
  (function addStylesheet() {
    if (document.querySelector('link[data-copilot-as]')) { return; }
    var link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = (C.base || '') + 'copilot-assistant.css';
    link.setAttribute('data-copilot-as', '1');
    document.head.appendChild(link);
  }());

  /** A probe/diagnostic result's state (probes/verdict.py) as a badge: ok / problem found / could not run (why). */
  var STATE_WORDS = {ok: ['ok', 'ocp-ok'], problem: ['problem found', 'ocp-bad'], could_not_run: ['could not run', 'copilot-as-cnr']};
  var REASON_WORDS = {not_installed: 'not installed', needs_parameter: 'needs a parameter', bad_parameter: 'bad parameter',
    not_applicable: 'not applicable here', timed_out: 'timed out', refused: 'refused', failed_to_run: 'failed to start'};
  C.stateOf = function (r) {
    if (r && STATE_WORDS[r.state]) { return r.state; }
    // a daemon older than the three states: only the exit code is known
    return r && !r.error && !r.timed_out && r.returncode === 0 && r.matched_expected !== false ? 'ok' : 'problem';
  };
  /** ``twoLines``: the reason under the badge (narrow grid columns), else after it. */
  C.stateBadge = function (r, twoLines) {
    var st = C.stateOf(r), w = STATE_WORDS[st];
    var why = st === 'could_not_run' && r.reason ? (REASON_WORDS[r.reason] || r.reason) : '';
    var cls = w[1] + ' copilot-as-state copilot-as-state-' + st;
    if (twoLines) { return C.badge(w[0], cls) + (why ? '<div class="copilot-as-why">' + C.h(why) + '</div>' : ''); }
    return C.badge(w[0] + (why ? ': ' + why : ''), cls);
  };
  C.readingHtml = function (r) {
    return r && r.reading ? '<span class="copilot-as-reading">' + C.h(r.reading) + '</span>' : '';
  };

  /** Seconds since ``t0`` (ms) in words: "4 s", "1 min 5 s". */
  C.elapsed = function (t0) {
    var s = Math.max(0, Math.round((Date.now() - t0) / 1000));
    return s < 60 ? s + ' s' : Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
  };

  /** Where to add an LLM provider: OMV's Settings page (inside OMV), else the config key. */
  function addLlmHtml() {
    var inOmv = C.app && C.app.mode === 'omv';
    return '<div class="ocp-notice copilot-as-kbonly">This answer comes from the knowledge base only. ' +
      (inOmv ? '<a href="' + SETTINGS_URL + '" target="_top" class="copilot-as-settings">Add an LLM provider in Settings</a>'
        : 'Add an LLM provider (OMV: Diagnostics → Co-Pilot → Settings; or <code>assist.providers</code> in the config file)') +
      ' so Co-Pilot can reason about this NAS\'s state and questions no pattern covers.</div>';
  }
  var CONTEXTS = [['', 'Auto'], ['storage', 'Storage'], ['network', 'Network'], ['service', 'Services'],
    ['performance', 'Performance'], ['security', 'Security'], ['general', 'General']];

  /** An action's escaped command with each {name} it still needs marked as a placeholder to replace (the
   *  server fills what the question or the box names; the rest stays {name}, and Copy copies it as shown). */
  function placeholders(html, needs) {
    return (needs || []).reduce(function (out, n) {
      var token = '{' + C.h(n) + '}';
      return out.split(token).join('<var class="copilot-as-placeholder">' + token + '</var>');
    }, html);
  }

  /** Answer JSON (contracts.md "Assist") -> HTML with data-* hooks for the click handler. */
  C.renderAnswer = function (a, idx, feedback) {
    var h = C.h, out = [];
    if (a.mode === 'direct' && a.llm_error) {
      // Direct Chat without a working LLM: the failure, said as one (nothing was answered).
      return '<div class="ocp-answer copilot-as-failed"><div class="ocp-answer-head">' + C.badge('Direct Chat', 'ocp-warn ocp-direct') + '</div>' +
        '<div class="ocp-error" role="alert">' + h(a.analysis || ('Direct Chat got no answer: ' + a.llm_error)) + '</div>' +
        (a.trace_id ? '<div class="ocp-muted">Trace: <a href="#" class="ocp-link" data-trace="' + h(a.trace_id) + '">' + h(a.trace_id) + '</a></div>' : '') + '</div>';
    }
    var conf = Math.max(0, Math.min(1, Number(a.confidence) || 0));
    var confCls = conf >= 0.7 ? 'ocp-ok' : (conf >= 0.4 ? 'ocp-warn' : 'ocp-bad');
    var label = a.confidence_label;  // the engine's (kb_answer.confidence_label): "low" for a weak best match
    out.push('<div class="ocp-answer-head">');
    if (a.mode === 'kb_only') { out.push(C.badge('KB-only', 'ocp-info ocp-kbonly')); }
    if (a.mode === 'direct') { out.push(C.badge('Direct Chat', 'ocp-warn ocp-direct')); }
    if (a.mode === 'llm') { out.push(C.badge((a.provider || 'LLM') + (a.model ? ' · ' + a.model : ''))); }
    if (a.context) { out.push(C.badge('Specialist: ' + a.context, 'ocp-context')); }
    out.push('<span class="ocp-conf" title="confidence ' + h(label || '') + '">Confidence ' +
      '<span class="ocp-bar ocp-bar-small"><span class="ocp-bar-fill ' + confCls + '" style="width:' + Math.round(conf * 100) + '%"></span></span> ' +
      Math.round(conf * 100) + '%' + (label ? ' (' + h(label) + ')' : '') + '</span>');
    out.push('</div>');
    if ((a.readings || []).length) {
      // The values the question asked for, from the box's latest snapshot (assist/readings.py), before the advice.
      out.push('<h4>Readings</h4><ul class="ocp-list copilot-as-readings">' + a.readings.map(function (r) {
        var at = r.read_at ? new Date(r.read_at * 1000).toLocaleString() : '';
        return '<li' + (r.held === false ? ' class="copilot-as-unheld"' : '') + (at ? ' title="read at ' + h(at) + '"' : '') + '>' +
          h(r.text || ((r.label || '') + ': ' + (r.value || ''))) + '</li>';
      }).join('') + '</ul>');
    }
    (a.notices || []).forEach(function (n) { out.push('<div class="ocp-notice">' + h(typeof n === 'string' ? n : (n.message || JSON.stringify(n))) + '</div>'); });
    if (a.mode === 'kb_only' && a.llm_configured === false) { out.push(addLlmHtml()); }
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
          (r.command ? '<div><code>' + placeholders(h(r.command), r.needs) + '</code> <a href="#" class="ocp-btn" data-copy="' + idx + ':' + i + '">Copy</a></div>' : '') +
          ((r.needs || []).length ? '<div class="ocp-muted copilot-as-needs">Fill in before you run it: ' +
            r.needs.map(function (n) { return '<var class="copilot-as-placeholder">{' + h(n) + '}</var>'; }).join(', ') + '</div>' : '') +
          (r.explanation ? '<div class="ocp-muted">' + h(r.explanation) + '</div>' : '') + '</li>';
      }).join('') + '</ul>');
    }
    if ((a.follow_up_questions || []).length) {
      // Questions to the user: each gets an answer field; the answer goes into this conversation as context.
      out.push('<h4>Follow-up questions for you</h4><div class="copilot-as-followups">' + a.follow_up_questions.map(function (q, i) {
        var id = 'copilot-as-fu-' + idx + '-' + i;
        return '<form class="copilot-as-followup" data-answer="' + idx + '" data-q="' + i + '">' +
          '<label for="' + id + '">' + h(q) + '</label>' +
          '<span class="copilot-as-reply"><input id="' + id + '" type="text" maxlength="500" placeholder="Your answer…" autocomplete="off">' +
          '<button type="submit" class="ocp-btn">Answer</button></span></form>';
      }).join('') + '</div>');
    }
    if (a.trace_id) { out.push('<div class="ocp-muted">Trace: <a href="#" class="ocp-link" data-trace="' + h(a.trace_id) + '">' + h(a.trace_id) + '</a></div>'); }
    if (feedback === 'up' || feedback === 'down') {
      out.push('<div class="ocp-feedback ocp-feedback-done copilot-as-rated">You rated this answer ' + (feedback === 'up' ? 'helpful' : 'not helpful') + '.</div>');
    } else if ((a.matched_patterns || []).length) {
      out.push('<div class="ocp-feedback">Helpful? <a href="#" class="ocp-thumb" data-feedback="up" data-answer="' + idx + '" title="Helpful">Yes</a> ' +
        '<a href="#" class="ocp-thumb" data-feedback="down" data-answer="' + idx + '" title="Not helpful">No</a></div>');
    }
    return '<div class="ocp-answer">' + out.join('') + '</div>';
  };

  C.createAssistant = function (app) {
    var answers = [];        // rendered answers, for copy / feedback / follow-up lookups
    var conversationId = null;
    var job = null;          // {id, timer, t0, stage}

    var convStore = Ext.create('Ext.data.Store', {fields: ['id', 'title', 'updated_at', 'turns', 'renamed']});

    var transcript = Ext.create('Ext.panel.Panel', {
      region: 'center', scrollable: 'y', bodyPadding: 10, cls: 'ocp-transcript', itemId: 'transcript',
      html: '<div class="ocp-log" aria-live="polite"><div class="ocp-muted ocp-empty">Ask a question about this NAS, e.g. "Why is my SMB share slow?" Enter sends, Shift+Enter adds a line.</div></div>'
    });

    function logEl() { return transcript.body && transcript.body.dom.querySelector('.ocp-log'); }
    function resetLog(html) { var l = logEl(); if (l) { l.innerHTML = html || ''; } }

    var progress = Ext.create('Ext.ProgressBar', {hidden: true, flex: 1, itemId: 'progress', cls: 'copilot-as-progress'});

    var input = Ext.create('Ext.form.field.TextArea', {
      flex: 1, itemId: 'question', emptyText: 'Ask Co-Pilot… (Enter sends)', height: 54, enforceMaxLength: true, maxLength: 4000,
      enableKeyEvents: true, ariaLabel: 'Question for Co-Pilot',
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
    function showQuestion(q) { lastQuestion = q; return append('<div class="ocp-q">' + C.h(q) + '</div>', 'ocp-msg-q'); }
    /** The user's answer to one of Co-Pilot's follow-up questions: shown as a reply to it, not as a new question. */
    function showReply(question, reply) {
      return append('<div class="ocp-q copilot-as-replybubble"><div class="copilot-as-replyto">↳ ' + C.h(question) + '</div>' + C.h(reply) + '</div>', 'ocp-msg-q');
    }

    function showAnswer(a, question, live, feedback) {
      answers.push(Ext.apply({_question: question || lastQuestion}, a));
      append(C.renderAnswer(a, answers.length - 1, feedback), 'ocp-msg-a');
      if (a.conversation_id) { conversationId = a.conversation_id; }
      if (live) { loadConversations(); }
    }

    /** The progress label: what the assistant is doing, in words, and for how long. */
    function progressText() {
      return job ? (job.stage || 'sending the question…') + ' · ' + C.elapsed(job.t0) : '';
    }

    function busy(on) {
      progress.setVisible(on);
      if (on) { progress.wait({interval: 200, text: progressText()}); } else { progress.reset(); }
      cancelBtn.setVisible(on);
      sendBtn.setDisabled(on);
    }

    function finish() {
      if (job && job.timer) { clearTimeout(job.timer); }
      if (job && job.ticker) { clearInterval(job.ticker); }
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
          // stage_text is the daemon's words; an older daemon sends only the stage's name
          if (r.stage_text || r.stage) { current.stage = r.stage_text || String(r.stage).replace(/_/g, ' ') + '…'; }
          progress.updateText(progressText());
          current.timer = setTimeout(poll, POLL_MS);
        }
      }).catch(function (e) {
        if (job !== current) { return; }
        finish();
        append(C.errorHtml('Could not get the answer', e));
        app.handleError(e);
      });
    }

    /** Ask ``text`` (default: the input's); ``reply`` = {question} when it answers a follow-up question. */
    function send(text, reply) {
      var fromInput = text === undefined;
      var q = (fromInput ? input.getValue() || '' : text).trim();
      if (!q || job) { return false; }
      if (fromInput) { input.setValue(''); }
      var bubble = reply ? showReply(reply.question, q) : showQuestion(q);
      var params = {query: q, direct: !!directBtn.pressed};
      if (contextCombo.getValue()) { params.context = contextCombo.getValue(); }
      if (conversationId) { params.conversation_id = conversationId; }
      if (reply && conversationId) { params.reply_to = reply.question; }
      job = {id: null, timer: null, t0: Date.now(), stage: null};
      var mine = job;
      mine.ticker = setInterval(function () { if (job === mine) { progress.updateText(progressText()); } }, 1000);
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
        // Nothing was asked: the typed question comes back to the input, to send again.
        if (fromInput && !input.getValue()) { input.setValue(q); }
        if (bubble && bubble.parentNode) { bubble.parentNode.removeChild(bubble); }
        append(C.errorHtml('Could not ask (your question is back in the input; send it again when the daemon answers)', e));
        app.handleError(e);
      });
      return true;
    }

    function cancel() {
      if (!job) { return; }
      var id = job.id;
      finish();
      append('<div class="ocp-muted">Cancelled.</div>');
      if (id) { app.call('cancelQuery', {job_id: id}).catch(function () { /* already finished */ }); }
    }

    var searchText = '';
    function loadConversations() {
      // OMV's list datamodel requires start and limit.
      var params = {start: 0, limit: 100};
      if (searchText) { params.q = searchText; }
      return app.call('getConversations', params).then(function (r) {
        convStore.loadData(C.rows(r).map(function (c) {
          return {id: c.id || c.conversation_id, title: c.title || c.first_query || c.summary || (c.id || c.conversation_id),
            updated_at: c.updated_at || c.last_at || c.created_at, turns: c.turns, renamed: c.renamed};
        }));
        var g = panel.down('#conversations');
        if (g && !convStore.getCount()) {
          C.gridMessage(g, searchText ? 'No conversation mentions "' + C.h(searchText) + '".' : 'No conversations yet.');
        }
      }).catch(function (e) { convStore.removeAll(); C.gridMessage(panel.down('#conversations'), C.errorHtml('Conversations not available', e)); });
    }

    function openConversation(id) {
      conversationId = id;
      answers = [];
      resetLog('');
      app.call('getConversation', {id: id}).then(function (r) {
        var turns = C.rows(r && (r.turns || r.messages || r.queries) ? {data: r.turns || r.messages || r.queries} : r);
        turns.forEach(function (t) {
          var ans = t.answer || t.response || (t.analysis !== undefined ? t : null);
          var q = t.query || t.question;
          if (ans && ans.reply_to) {
            var m = /^My answer to your question "[\s\S]*?": ([\s\S]*)$/.exec(q || '');
            showReply(ans.reply_to, m ? m[1] : q);
          } else if (q) { showQuestion(q); }
          if (ans && typeof ans === 'object') { showAnswer(ans, q, false, t.feedback); }
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

    function selectedConversation() {
      var sel = panel.down('#conversations').getSelection();
      if (!sel.length) { C.toast('Select a conversation first.'); return null; }
      return sel[0];
    }

    function renameConversation() {
      var rec = selectedConversation();
      if (!rec) { return; }
      Ext.Msg.prompt('Rename conversation', 'New name:', function (btn, text) {
        text = (text || '').trim();
        if (btn !== 'ok' || !text) { return; }
        app.call('renameConversation', {id: String(rec.get('id')), title: text.slice(0, 200)})
          .then(function () { C.toast('Conversation renamed.'); loadConversations(); })
          .catch(function (e) { C.toast('Not renamed: ' + C.explain(e)); });
      }, null, false, rec.get('title'));
    }

    function deleteConversation() {
      var rec = selectedConversation();
      if (!rec) { return; }
      Ext.Msg.confirm('Delete conversation', 'Delete "' + C.h(rec.get('title')) + '" and its answers? This cannot be undone.', function (btn) {
        if (btn !== 'yes') { return; }
        var id = String(rec.get('id'));
        app.call('deleteConversation', {id: id}).then(function () {
          C.toast('Conversation deleted.');
          if (conversationId === id) { newConversation(); }
          loadConversations();
        }).catch(function (e) { C.toast('Not deleted: ' + C.explain(e)); });
      });
    }

    var searchTimer = null;
    var convGrid = {xtype: 'grid', region: 'west', width: 260, split: true, collapsible: true, title: 'Conversations', itemId: 'conversations',
      store: convStore, hideHeaders: true, emptyText: 'No conversations yet.', cls: 'copilot-as-convs',
      columns: [{dataIndex: 'title', flex: 1, cellWrap: true, renderer: function (v, m, r) {
        return '<div class="copilot-as-convtitle">' + C.h(v) + '</div><div class="ocp-muted">' + C.time(r.get('updated_at')) + '</div>';
      }}],
      dockedItems: [{xtype: 'toolbar', dock: 'top', items: [
        {xtype: 'textfield', itemId: 'convSearch', flex: 1, emptyText: 'Search conversations…', ariaLabel: 'Search conversations', enableKeyEvents: true,
          listeners: {change: function (f, v) {
            clearTimeout(searchTimer);
            searchTimer = setTimeout(function () { searchText = (v || '').trim(); loadConversations(); }, 300);
          }}}]}],
      tbar: {enableOverflow: true, items: [{text: 'New conversation', itemId: 'newConv', handler: newConversation},
        {text: 'Rename', itemId: 'renameConv', handler: renameConversation},
        {text: 'Delete', itemId: 'deleteConv', handler: deleteConversation}]},
      listeners: {itemclick: function (g, rec) { openConversation(rec.get('id')); },
        itemkeydown: function (g, rec, item, i, e) { if (e.getKey() === e.ENTER) { openConversation(rec.get('id')); } }}};

    var panel = Ext.create('Ext.panel.Panel', {
      title: 'Assistant', itemId: 'assistant', layout: 'border', cls: 'copilot-as',
      items: [
        convGrid,
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

    function runProbe(el, d) {
      var at = d.probe.split(':'), an = answers[+at[0]], diag = an && an.suggested_diagnostics[+at[1]];
      var pre = el.parentNode.querySelector('.ocp-probe-out');
      if (!diag || !diag.probe || !pre) { return; }
      var verdict = el.parentNode.querySelector('.copilot-as-verdict');
      if (!verdict) {
        verdict = document.createElement('div');
        verdict.className = 'copilot-as-verdict';
        pre.parentNode.insertBefore(verdict, pre);
      }
      verdict.innerHTML = '<span class="ocp-muted">running 1 check…</span>';
      pre.hidden = false;
      pre.textContent = '$ ' + diag.command;
      app.call('runProbe', {command: diag.command}).then(function (r) {
        var res = r.result || {};
        verdict.innerHTML = C.stateBadge(res) + ' ' + C.readingHtml(res);
        pre.textContent = '$ ' + r.command + '\n' + (res.error ? res.error + '\n' : '') + (res.stdout || '') + (res.stderr || '');
      }).catch(function (e) { verdict.innerHTML = ''; pre.textContent = '$ ' + diag.command + '\n' + C.explain(e); });
    }

    function rate(el, d) {
      var ans = answers[+d.answer] || {};
      var mp = (ans.matched_patterns || [])[0];
      if (!mp) { return; }
      // Knowledge feedback rates the best-matching pattern; query_id lets the answer show its rating after a reload.
      var fb = {pattern_id: mp.pattern_id, helpful: d.feedback === 'up'};
      if (ans._question) { fb.query = String(ans._question).slice(0, 500); }  // a string or absent (OMV's datamodel)
      if (ans.query_id) { fb.query_id = String(ans.query_id); }
      app.call('feedback', fb)
        .then(function () {
          Ext.fly(el.parentNode).addCls('ocp-feedback-done');
          el.parentNode.innerHTML = 'Thanks for the feedback: you rated this answer ' + (fb.helpful ? 'helpful' : 'not helpful') + '.';
        })
        .catch(function (e) { C.toast('Feedback not saved: ' + C.explain(e)); });
    }

    panel.on('afterrender', function () {
      transcript.body.on('click', function (ev, el) {
        var d = el.dataset;
        if (el.classList.contains('copilot-as-settings')) { return; }  // a real link to OMV's Settings page
        ev.preventDefault();
        if (d.pattern) { app.show('knowledge', {pattern_id: d.pattern}); }
        else if (d.trace) { app.show('traces', {id: d.trace}); }
        else if (d.probe) { runProbe(el, d); }
        else if (d.copy) {
          var parts = d.copy.split(':'), a = answers[+parts[0]], act = a && a.recommended_actions[+parts[1]];
          if (act) { C.copy(act.command).then(function () { C.toast('Command copied to the clipboard.'); }); }
        } else if (d.feedback) { rate(el, d); }
      }, null, {delegate: 'a'});
      // A follow-up question answered: the reply joins this conversation as context.
      transcript.body.on('submit', function (ev, form) {
        ev.preventDefault();
        var a = answers[+form.getAttribute('data-answer')] || {};
        var question = (a.follow_up_questions || [])[+form.getAttribute('data-q')];
        var field = form.querySelector('input');
        var text = (field.value || '').trim();
        if (!question || !text) { field.focus(); return; }
        if (a.conversation_id) { conversationId = a.conversation_id; }
        if (send(text, {question: question})) { field.value = ''; }
      }, null, {delegate: 'form'});
      loadConversations();
    }, null, {single: true});

    /** ``{ask: text}`` (e.g. an alert's "Ask Co-Pilot about this"): a new conversation with the question pre-filled. */
    panel.navigate = function (opts) {
      function prefill(text) {
        newConversation();
        input.setValue(String(text).slice(0, 4000));
        input.focus();
      }
      if (opts && opts.ask) { prefill(opts.ask); return; }
      // ``{alert: id}`` (the route #/…/copilot/panel/assistant?alert=<id>): the alert's question, with its evidence
      if (opts && opts.alert) {
        app.call('getAlert', {id: String(opts.alert)}).then(function (a) { prefill(C.alertQuestion(a || {})); })
          .catch(function (e) { C.toast('Alert ' + opts.alert + ' not available: ' + C.explain(e)); });
      }
    };
    panel.ask = send;
    panel.showAnswer = showAnswer;  // also used by the browser tests to render a contract-shaped answer
    return panel;
  };
}());
