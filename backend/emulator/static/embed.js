// The emulated embedded dashboard page: it speaks the embedding protocol of
// shared/wire (embed.go holds its names) with its parent window and renders the
// dashboard with the token it is given. Served from the workspace's origin.
(function () {
  'use strict';

  var body = document.body;
  var allowed = JSON.parse(body.getAttribute('data-origins') || '[]');
  var dashboardId = body.getAttribute('data-dashboard');
  var page = body.getAttribute('data-page') || '';
  var root = document.getElementById('dashboard');
  var tabs = document.getElementById('tabs');
  var notice = document.getElementById('notice');
  var meta = document.getElementById('meta');
  var refreshButton = document.getElementById('refresh');

  var token = null;
  var tokenExp = 0;
  var refreshes = 0;
  var loading = false;
  var retries = 0;
  var expiryTimer = null;
  var pending = false; // a page was asked for while another was loading
  var navigations = 0;

  function setState(state) { body.setAttribute('data-state', state); }

  function showNotice(kind, title, detail, code) {
    notice.hidden = false;
    notice.className = 'notice notice-' + kind;
    notice.textContent = '';
    var h = document.createElement('strong');
    h.textContent = title;
    notice.appendChild(h);
    if (detail) {
      var p = document.createElement('p');
      p.textContent = detail;
      notice.appendChild(p);
    }
    if (code) {
      var c = document.createElement('code');
      c.textContent = code;
      notice.appendChild(c);
      body.setAttribute('data-error', code);
    }
  }

  function clearNotice() {
    notice.hidden = true;
    body.removeAttribute('data-error');
  }

  function fail(code, title, detail) {
    setState('error');
    root.textContent = '';
    showNotice('error', title, detail, code);
  }

  // The embedding page's own origin, as the browser reports it: the
  // parent's entry in location.ancestorOrigins (Chromium, Safari), else the
  // origin of the referrer that loaded this frame. It counts only when it is
  // an allowed origin; frame-ancestors has already kept others from framing
  // this page in any browser that enforces CSP.
  var reported = (function () {
    try {
      if (location.ancestorOrigins && location.ancestorOrigins.length) { return location.ancestorOrigins[0]; }
    } catch (e) { /* not supported */ }
    try {
      if (document.referrer) { return new URL(document.referrer).origin; }
    } catch (e) { /* no usable referrer */ }
    return '';
  })();
  var parentOrigin = allowed.indexOf(reported) >= 0 ? reported : '';
  body.setAttribute('data-parent-origin', parentOrigin);

  // READY and any other message go to the embedding page's origin only.
  // When the browser reports no origin at all (no ancestorOrigins, and a
  // page that sends no referrer), posting to each allowed origin is the one
  // way to reach the parent, and still reaches no other origin.
  function tellParent(msg) {
    if (parentOrigin) {
      window.parent.postMessage(msg, parentOrigin);
      return;
    }
    if (reported) { return; } // an origin that is not allowed: tell it nothing
    allowed.forEach(function (origin) {
      try { window.parent.postMessage(msg, origin); } catch (e) { /* a malformed origin in state */ }
    });
  }

  function decodeExp(t) {
    try {
      var part = t.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      var claims = JSON.parse(atob(part));
      return typeof claims.exp === 'number' ? claims.exp : 0;
    } catch (e) {
      return 0;
    }
  }

  function watchExpiry() {
    if (expiryTimer) { clearTimeout(expiryTimer); }
    var ms = tokenExp * 1000 - Date.now();
    expiryTimer = setTimeout(function () {
      showNotice('warn', 'The token has expired',
        'No new token arrived before it expired. The embedding page must send DATABRICKS_SET_TOKEN before exp, or reload the frame.',
        'TOKEN_EXPIRED');
      setState('expired');
    }, Math.max(0, Math.min(ms, 2147483647)));
  }

  function acceptToken(t) {
    var exp = typeof t === 'string' && t.split('.').length === 3 ? decodeExp(t) : 0;
    if (!exp) {
      fail('INVALID_TOKEN_FORMAT', 'The token is malformed', 'Expected a JWT (three base64url parts separated by dots) with an exp claim.');
      return;
    }
    if (token !== null) { refreshes++; }
    token = t;
    tokenExp = exp;
    body.setAttribute('data-token-exp', String(exp));
    body.setAttribute('data-refreshes', String(refreshes));
    watchExpiry();
    load();
  }

  function renderTabs(pages) {
    tabs.textContent = '';
    (pages || []).forEach(function (p) {
      var b = document.createElement('button');
      b.type = 'button';
      b.textContent = p.display_name || p.name;
      b.setAttribute('data-page', p.name);
      if (p.name === page) { b.className = 'active'; }
      b.addEventListener('click', function () { show(p.name); });
      tabs.appendChild(b);
    });
  }

  // show switches to a page in place: at once, or as soon as the page that
  // is loading has arrived (its answer is then dropped).
  function show(pageId) {
    page = pageId;
    if (loading) { pending = true; return; }
    load();
  }

  // navigate is DATABRICKS_NAVIGATE, @databricks/aibi-client's navigate()
  // (1.0.1-alpha.0 and later): another page, or another dashboard, in the
  // same frame without reloading it. The dashboard must be one the token
  // grants, or the query API refuses it and the frame says so.
  function navigate(d) {
    var dash = d.dashboardId, pageId = d.pageId;
    if (typeof dash !== 'string' || dash === '' || (pageId != null && typeof pageId !== 'string')) {
      showNotice('warn', 'Navigation refused', 'DATABRICKS_NAVIGATE needs a dashboardId string and, optionally, a pageId string.', 'INVALID_NAVIGATION');
      return;
    }
    navigations++;
    body.setAttribute('data-navigations', String(navigations));
    dashboardId = dash;
    body.setAttribute('data-dashboard', dash);
    var path = '/embed/dashboardsv3/' + encodeURIComponent(dash) + (pageId ? '/pages/' + encodeURIComponent(pageId) : '');
    history.replaceState(null, '', path + location.search); // no new history entry: Back stays the embedding page's
    show(pageId || '');
  }

  function load() {
    if (!token || loading) { return; }
    loading = true;
    setState('loading');
    var url = '/embed/api/dashboards/' + encodeURIComponent(dashboardId) + '/render?page=' + encodeURIComponent(page);
    fetch(url, { headers: { 'Authorization': 'Bearer ' + token }, cache: 'no-store' })
      .then(function (res) {
        return res.json().then(function (data) { return { ok: res.ok, status: res.status, retryAfter: res.headers.get('Retry-After'), data: data }; },
          function () { return { ok: false, status: res.status, data: { error_code: 'BAD_RESPONSE', message: 'The workspace answered ' + res.status + ' with no JSON.' } }; });
      })
      .then(function (r) {
        loading = false;
        if (pending) { pending = false; load(); return; }
        if (r.status === 429 && retries < 3) {
          // The workspace's limit is per second: wait as told, then load again.
          retries++;
          var wait = Math.max(1, parseInt(r.retryAfter, 10) || 1);
          setState('throttled');
          showNotice('warn', 'Too many dashboard loads', (r.data.message || '') + ' Retrying in ' + wait + ' s (attempt ' + retries + ' of 3).', r.data.error_code || '429');
          setTimeout(load, wait * 1000);
          return;
        }
        if (!r.ok) {
          fail(r.data.error_code || String(r.status), titleFor(r.status, r.data.error_code), r.data.message);
          return;
        }
        retries = 0;
        page = r.data.page;
        renderTabs(r.data.pages);
        root.innerHTML = r.data.html; // built and escaped by the workspace's own renderer
        meta.textContent = 'Viewer ' + r.data.external_viewer_id + ' · token expires ' + new Date(tokenExp * 1000).toLocaleTimeString() +
          (refreshes ? ' · token refreshed ' + refreshes + '×' : '');
        body.setAttribute('data-viewer', r.data.external_viewer_id);
        body.setAttribute('data-page', page);
        clearNotice();
        setState('ready');
      }, function (err) {
        loading = false;
        if (pending) { pending = false; load(); return; }
        fail('NETWORK', 'The workspace could not be reached', String(err));
      });
  }

  function titleFor(status, code) {
    if (status === 401) { return 'The token was refused'; }
    if (status === 403) { return 'The token does not grant this dashboard'; }
    if (status === 404) { return 'Dashboard not found'; }
    if (status === 429) { return 'Too many dashboard loads, even after retrying'; }
    return 'The dashboard could not be loaded (' + (code || status) + ')';
  }

  window.addEventListener('message', function (ev) {
    if (allowed.indexOf(ev.origin) < 0) { return; } // only the embedding origins the workspace allows
    if (parentOrigin && ev.origin !== parentOrigin) { return; } // and of those, the embedding page's
    if (ev.source !== window.parent) { return; } // not a sibling frame of an allowed origin
    var d = ev.data;
    if (!d || typeof d !== 'object') { return; }
    if (d.type === 'DATABRICKS_SET_CONFIG') {
      if (!d.config || d.config.version !== 1) {
        fail('INVALID_CONFIG_VERSION', 'Unsupported embedding configuration', 'config.version must be 1.');
        return;
      }
      refreshButton.hidden = !!d.config.hideRefreshButton;
      body.setAttribute('data-configured', 'true');
    } else if (d.type === 'DATABRICKS_SET_TOKEN') {
      acceptToken(d.token);
    } else if (d.type === 'DATABRICKS_NAVIGATE') {
      navigate(d);
    }
  });

  refreshButton.addEventListener('click', function () { show(page); });

  // The first token travels in the URL fragment, so it never reaches a
  // server log; it is removed from the address at once.
  var m = /(?:^|&)token=([^&]+)/.exec(location.hash.slice(1));
  if (m) {
    history.replaceState(null, '', location.pathname + location.search);
    acceptToken(decodeURIComponent(m[1]));
  } else {
    setState('waiting');
    showNotice('info', 'Waiting for a token', 'The embedding page sends one with DATABRICKS_SET_TOKEN.');
    setTimeout(function () {
      if (token === null) {
        fail('NO_TOKEN', 'No token was provided',
          'Pass one in the URL fragment (#token=...) or send DATABRICKS_SET_TOKEN from an allowed embedding origin: ' + allowed.join(', '));
      }
    }, 10000);
  }
  tellParent({ type: 'DATABRICKS_EMBED_READY' });
})();
