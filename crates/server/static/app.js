// Evident: the only script we write. Loaded with `defer` on every page; the CSP
// (`script-src 'self'`) forbids inline scripts and handlers, so all behaviour lives here.
// Every feature is an enhancement: each page works with plain forms if this never runs.
'use strict';

(function () {
  // htmx requests bypass normal form posts, so the hidden CSRF field isn't always sent;
  // the server accepts the same token from this header instead.
  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.getAttribute('content') : '';
  if (token) {
    document.body.addEventListener('htmx:configRequest', function (e) {
      e.detail.headers['X-CSRF-Token'] = token;
    });
  }

  function humanSize(bytes) {
    var units = ['B', 'KB', 'MB', 'GB'];
    var i = 0;
    while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i++; }
    return (i === 0 ? bytes : bytes.toFixed(1)) + ' ' + units[i];
  }

  // textContent, never innerHTML: file names come from the user's disk and may hold markup.
  function showChosen(zone, input) {
    var out = zone.querySelector('span.chosen');
    if (!out) return;
    var f = input.files && input.files[0];
    out.textContent = f ? f.name + ' (' + humanSize(f.size) + ')' : '';
  }

  // Drag and drop is a shortcut for mouse users; the file input stays visible and
  // focusable because it is the keyboard and screen-reader path.
  document.querySelectorAll('.dropzone').forEach(function (zone) {
    var input = zone.querySelector('input[type=file]');
    if (!input) return;
    function over(e) {
      // preventDefault marks the zone as a drop target; without it the browser opens the file.
      e.preventDefault();
      zone.classList.add('dragover');
    }
    function leave(e) {
      // dragleave also fires when moving onto a child element; ignore those.
      if (e.type === 'dragleave' && zone.contains(e.relatedTarget)) return;
      zone.classList.remove('dragover');
    }
    zone.addEventListener('dragenter', over);
    zone.addEventListener('dragover', over);
    zone.addEventListener('dragleave', leave);
    zone.addEventListener('drop', function (e) {
      e.preventDefault();
      leave(e);
      var files = e.dataTransfer && e.dataTransfer.files;
      if (!files || !files.length) return;
      if (files.length > 1 && !input.multiple) {
        // Browsers would accept several files into a single-file input; keep only the first.
        var one = new DataTransfer();
        one.items.add(files[0]);
        files = one.files;
      }
      input.files = files;
      // Let our listener and anything else (htmx triggers, validation) react as if chosen.
      input.dispatchEvent(new Event('change', { bubbles: true }));
    });
    input.addEventListener('change', function () { showChosen(zone, input); });
  });

  // Destructive actions (withdraw, delete, revoke) ask first. Listening on the document in the
  // capture phase also covers forms that htmx swaps in later and runs before htmx's own handler.
  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm !== undefined &&
        !window.confirm(form.dataset.confirm)) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);

  // Uploads can be large: a form marked data-progress is sent by XHR so a progress bar can
  // follow the bytes. The answer is what a plain submit would have shown: a redirect is
  // followed, an error page (the form with the reason next to the field) replaces this one.
  document.querySelectorAll('form[data-progress]').forEach(function (form) {
    var bar = form.querySelector('progress');
    form.addEventListener('submit', function (e) {
      if (e.defaultPrevented || !window.FormData) return;
      e.preventDefault();
      var xhr = new XMLHttpRequest();
      xhr.open(form.method || 'post', form.action);
      if (bar) {
        bar.hidden = false;
        bar.removeAttribute('value');
        xhr.upload.addEventListener('progress', function (p) {
          if (p.lengthComputable) { bar.max = p.total; bar.value = p.loaded; }
        });
      }
      xhr.addEventListener('load', function () {
        if (xhr.status < 400 && xhr.responseURL && xhr.responseURL !== form.action) {
          window.location.assign(xhr.responseURL);
        } else {
          document.open();
          document.write(xhr.responseText);
          document.close();
        }
      });
      xhr.addEventListener('error', function () {
        if (bar) bar.hidden = true;
        window.alert('The upload did not reach the server. Check the connection and try again.');
      });
      xhr.send(new FormData(form));
    });
  });
})();
