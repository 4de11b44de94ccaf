// Home page: generate sample data (JSON POST) and upload with a progress bar (XMLHttpRequest).
'use strict';

(function () {
  const MB = 1024 * 1024;
  const fmtMb = (bytes) => (bytes / MB).toFixed(bytes < 10 * MB ? 1 : 0);

  // ---- Generate sample data ----
  const genForm = document.getElementById('generate-form');
  const genAlert = document.getElementById('generate-alert');
  const genButton = document.getElementById('generate-submit');
  if (genForm && genAlert && genButton) {
    genForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      const data = new FormData(genForm);
      const payload = {};
      for (const [key, value] of data.entries()) {
        if (typeof value === 'string' && value.trim() !== '') payload[key] = value.trim();
      }
      for (const key of ['duration', 'seed', 'anomaly_share']) {
        if (key in payload) payload[key] = Number(payload[key]);
      }
      const duration = payload.duration;
      if (!(Number.isFinite(duration) && duration >= 1 && duration <= 168)) {
        genAlert.replaceChildren(window.fsAlert('danger', 'Check the duration.', ['It must be between 1 and 168 hours.']));
        return;
      }
      genButton.disabled = true;
      const label = genButton.textContent;
      genButton.textContent = 'Generating…';
      genAlert.replaceChildren();
      try {
        const res = await fetch(genForm.action, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify(payload),
        });
        const body = await res.json().catch(() => null);
        if (!res.ok || !body || !body.success) {
          genAlert.replaceChildren(window.fsAlert('danger', 'Could not generate data.', window.fsErrorLines(body, res.status)));
          return;
        }
        genAlert.replaceChildren(generatedAlert(body));
      } catch (err) {
        genAlert.replaceChildren(window.fsAlert('danger', 'Could not reach the server.', [String(err && err.message ? err.message : err)]));
      } finally {
        genButton.disabled = false;
        genButton.textContent = label;
      }
    });
  }

  function generatedAlert(body) {
    const div = document.createElement('div');
    div.className = 'alert alert-success mb-0';
    div.setAttribute('role', 'status');
    const text = document.createElement('div');
    const records = Number(body.records).toLocaleString('en-US');
    const anomalies = body.anomalies != null ? ` (${Number(body.anomalies).toLocaleString('en-US')} labelled anomalies)` : '';
    text.textContent = `Generated ${records} flows${anomalies} in ${body.filename}.`;
    div.appendChild(text);
    const actions = document.createElement('div');
    actions.className = 'd-flex flex-wrap gap-2 mt-2';
    const link = document.createElement('a');
    link.className = 'btn btn-sm btn-success';
    link.href = body.download_url;
    link.id = 'generated-download';
    link.setAttribute('download', body.filename || '');
    link.textContent = 'Download CSV';
    actions.appendChild(link);
    const analyze = document.createElement('button');
    analyze.type = 'button';
    analyze.className = 'btn btn-sm btn-outline-success';
    analyze.id = 'generated-analyze';
    analyze.textContent = 'Analyze it now';
    analyze.addEventListener('click', () => analyzeGenerated(body, analyze));
    actions.appendChild(analyze);
    div.appendChild(actions);
    return div;
  }

  async function analyzeGenerated(body, button) {
    button.disabled = true;
    try {
      const res = await fetch(body.download_url);
      if (!res.ok) throw new Error(`download failed with status ${res.status}`);
      const blob = await res.blob();
      const file = new File([blob], body.filename || 'sample.csv', { type: 'text/csv' });
      const input = document.getElementById('file');
      const transfer = new DataTransfer();
      transfer.items.add(file);
      input.files = transfer.files;
      upload(file);
    } catch (err) {
      uploadAlert.replaceChildren(window.fsAlert('danger', 'Could not load the generated file.', [String(err && err.message ? err.message : err)]));
    } finally {
      button.disabled = false;
    }
  }

  // ---- Upload and analyze ----
  const form = document.getElementById('upload-form');
  const fileInput = document.getElementById('file');
  const uploadAlert = document.getElementById('upload-alert');
  const progress = document.getElementById('upload-progress');
  const bar = document.getElementById('upload-bar');
  const barWrap = document.getElementById('upload-bar-wrap');
  const status = document.getElementById('upload-status');
  const spinner = document.getElementById('upload-spinner');
  const submit = document.getElementById('upload-submit');
  if (!form || !fileInput || !uploadAlert || !progress || !bar || !status || !submit) return;
  const maxMb = Number(form.getAttribute('data-max-mb')) || Infinity;

  fileInput.addEventListener('change', () => uploadAlert.replaceChildren());

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const file = fileInput.files && fileInput.files[0];
    if (!file) {
      uploadAlert.replaceChildren(window.fsAlert('danger', 'Choose a file first.', ['Select a CSV file of flow records to analyze.']));
      fileInput.focus();
      return;
    }
    if (file.size > maxMb * MB) {
      uploadAlert.replaceChildren(window.fsAlert('danger', 'The file is too large.', [`${file.name} is ${fmtMb(file.size)} MB; the limit is ${maxMb} MB.`]));
      return;
    }
    upload(file);
  });

  function setBar(percent, text, { striped = false } = {}) {
    bar.style.width = `${percent}%`;
    bar.textContent = text;
    bar.classList.toggle('progress-bar-striped', striped);
    bar.classList.toggle('progress-bar-animated', striped);
    if (barWrap) barWrap.setAttribute('aria-valuenow', String(Math.round(percent)));
  }

  function setBusy(busy) {
    submit.disabled = busy;
    fileInput.disabled = busy;
    submit.textContent = busy ? 'Working…' : 'Analyze traffic';
  }

  function upload(file) {
    const data = new FormData(form);
    data.set('file', file, file.name);
    for (const key of ['features', 'contamination', 'n_estimators', 'random_state']) {
      const v = data.get(key);
      if (typeof v === 'string' && v.trim() === '') data.delete(key);
    }
    uploadAlert.replaceChildren();
    progress.classList.remove('d-none');
    spinner.classList.add('d-none');
    setBar(0, '0%');
    status.textContent = `Uploading ${file.name} (${fmtMb(file.size)} MB)…`;
    setBusy(true);

    const xhr = new XMLHttpRequest();
    xhr.open('POST', form.action);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.responseType = 'text';
    const analyzing = () => {
      setBar(100, 'Analyzing…', { striped: true });
      spinner.classList.remove('d-none');
      status.textContent = `Analyzing ${fmtMb(file.size)} MB: parsing flows, training the Isolation Forest, explaining anomalies…`;
    };
    xhr.upload.addEventListener('progress', (e) => {
      if (!e.lengthComputable) return;
      const pct = (e.loaded / e.total) * 100;
      setBar(pct, `${Math.floor(pct)}%`);
      status.textContent = `Uploading ${file.name}: ${fmtMb(e.loaded)} of ${fmtMb(e.total)} MB`;
    });
    xhr.upload.addEventListener('load', analyzing);
    xhr.addEventListener('load', () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300 && body && (body.analysis_url || (body.links && body.links.page))) {
        status.textContent = 'Done. Opening the results…';
        setBar(100, 'Done');
        window.location.assign(body.analysis_url || body.links.page);
        return;
      }
      fail(window.fsAlert('danger', titleFor(xhr.status), window.fsErrorLines(body, xhr.status)));
    });
    xhr.addEventListener('error', () => fail(window.fsAlert('danger', 'The upload failed.', ['The connection to the server was lost. Check that it is running and try again.'])));
    xhr.addEventListener('abort', () => fail(window.fsAlert('warning', 'Upload cancelled.', [])));
    xhr.send(data);

    function fail(alert) {
      progress.classList.add('d-none');
      setBusy(false);
      uploadAlert.replaceChildren(alert);
      alert.scrollIntoView({ block: 'nearest' });
    }
  }

  function titleFor(code) {
    if (code === 413) return 'The file is too large.';
    if (code === 422) return 'The file could not be read.';
    if (code === 400) return 'Check the file and settings.';
    if (code === 503 || code === 429) return 'The server is busy.';
    return 'The analysis failed.';
  }
})();
