import Foundation

// The review page: one HTML file with its script and style inline and the cells' data as JSON, so
// it opens from disk in any browser with no server and no network. Keyboard first: type the
// value, Enter marks the cell reviewed and moves to the next (Shift+Enter goes back). Values are
// kept in the browser's localStorage (per run and transcription) until saved; "Save
// corrections.csv" downloads the reviewed cells through a Blob link.

enum ReviewPage {
    static func html(items: [ReviewItem], identity: ReviewIdentity, title: String, threshold: Double) throws -> String {
        struct Payload: Encodable {
            var run_id: String
            var transcription_sha256: String
            var review_threshold: Double
            var items: [ReviewItem]
        }
        // JSONEncoder escapes "/" as "\/", so no "</script>" can end the script early.
        let json = String(decoding: try JSONEncoder().encode(Payload(run_id: identity.runID, transcription_sha256: identity.transcription,
                                                                     review_threshold: threshold,
                                                                     items: items)), as: UTF8.self)
        return template.replacingOccurrences(of: "/*DATA*/", with: json)
            .replacingOccurrences(of: "<!--TITLE-->", with: escape(title))
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    static let template = #"""
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Logbook review</title>
<style>
body { font-family: system-ui, sans-serif; margin: 0; background: #f4f4f0; }
header { position: sticky; top: 0; background: #222; color: #eee; padding: 8px 14px; display: flex; gap: 14px; align-items: center; flex-wrap: wrap; z-index: 2; }
header select, header button { font-size: 14px; }
#progress { font-weight: bold; }
#list { padding: 10px; display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 10px; }
.cell { background: #fff; border: 2px solid #ccc; border-radius: 6px; padding: 8px; display: grid; grid-template-columns: 1fr 1fr; gap: 8px; }
.cell.done { border-color: #3a3; }
.cell.current { box-shadow: 0 0 0 3px #48f; }
.where { grid-column: 1 / 3; font-size: 13px; color: #555; }
.crop img { max-width: 100%; image-rendering: pixelated; border: 1px solid #999; }
.ctx { position: relative; display: inline-block; }
.ctx img { max-width: 100%; display: block; }
.mark { position: absolute; border: 2px solid #e33; box-sizing: border-box; }
.digits span { display: inline-block; margin-right: 6px; padding: 1px 4px; border-radius: 3px; background: #dfd; font-family: monospace; }
.digits span.low { background: #fdd; }
.alts { font-family: monospace; font-size: 12px; color: #555; }
input.value { font-size: 22px; width: 8em; font-family: monospace; }
input.invalid { background: #fcc; }
</style>
</head>
<body>
<header>
<span>Logbook review <small><!--TITLE--></small></span>
<span id="progress"></span>
<label>sort <select id="sort"><option value="confidence">confidence (least sure first)</option><option value="page">page order</option></select></label>
<label>page <select id="page"><option value="">all</option></select></label>
<label>column <select id="column"><option value="">all</option></select></label>
<button id="save">Save corrections.csv</button>
<a id="download" style="display:none">corrections.csv</a>
<small>Type the value, Enter: next. Shift+Enter: back. Reviewed cells only are saved.</small>
</header>
<div id="list"></div>
<script>
const DATA = /*DATA*/;
const items = DATA.items;
items.forEach(it => { it.key = it.page + '|' + it.row + '|' + it.column; it.col = it.column_name || String(it.column); });
const storeKey = 'logbook-review-' + DATA.run_id + '-' + DATA.transcription_sha256;
let state = {};
try { state = JSON.parse(localStorage.getItem(storeKey) || '{}'); } catch (e) { state = {}; }
function persist() { try { localStorage.setItem(storeKey, JSON.stringify(state)); } catch (e) {} }
const isNumber = v => /^-?[0-9]+(\.[0-9]+)?$/.test(v);
const $ = id => document.getElementById(id);
function fill(select, values) { [...new Set(values)].forEach(v => { const o = document.createElement('option'); o.value = v; o.textContent = v; select.appendChild(o); }); }
fill($('page'), items.map(it => it.page));
fill($('column'), items.map(it => it.col));
function updateProgress() {
  const done = items.filter(it => state[it.key] && state[it.key].done).length;
  $('progress').textContent = done + ' / ' + items.length + ' reviewed';
}
function card(it) {
  const div = document.createElement('div');
  div.className = 'cell' + (state[it.key] && state[it.key].done ? ' done' : '');
  div.dataset.key = it.key;
  const where = document.createElement('div'); where.className = 'where';
  where.textContent = 'page ' + it.page + ', row ' + it.row + ', column ' + it.col + ' - ' + it.flag + ', confidence ' + it.confidence.toFixed(3);
  div.appendChild(where);
  const left = document.createElement('div');
  const crop = document.createElement('div'); crop.className = 'crop';
  const img = document.createElement('img'); img.src = it.cell_image; img.alt = 'cell'; img.style.height = '64px';
  crop.appendChild(img); left.appendChild(crop);
  const digits = document.createElement('div'); digits.className = 'digits';
  const confidences = it.digit_confidences ? it.digit_confidences.split(' ') : [];
  const reading = it.reading.replace('.', '').replace('-', '');
  confidences.forEach((p, i) => { const s = document.createElement('span'); s.textContent = (reading[i] || '?') + ' ' + Number(p).toFixed(2); if (Number(p) < DATA.review_threshold) s.className = 'low'; digits.appendChild(s); });
  left.appendChild(digits);
  const alts = document.createElement('div'); alts.className = 'alts';
  alts.textContent = it.alternatives ? 'alternatives: ' + it.alternatives : 'no digits read';
  left.appendChild(alts);
  const input = document.createElement('input'); input.className = 'value'; input.dataset.key = it.key;
  if (it.other_reading) {
    // The other reader's value: one click puts it in the input (Enter confirms it, as typed).
    const other = document.createElement('div'); other.className = 'other';
    other.textContent = 'other reader: ' + it.other_reading + ' ';
    const use = document.createElement('button'); use.className = 'use-other'; use.textContent = 'use'; use.tabIndex = -1;
    use.addEventListener('click', () => { input.value = it.other_reading; input.dispatchEvent(new Event('input')); input.focus(); });
    other.appendChild(use);
    left.appendChild(other);
  }
  input.value = state[it.key] ? state[it.key].value : it.reading;
  input.addEventListener('input', () => { state[it.key] = { value: input.value.trim(), done: false }; div.classList.remove('done'); input.classList.toggle('invalid', input.value.trim() !== '' && !isNumber(input.value.trim())); persist(); updateProgress(); });
  input.addEventListener('focus', () => { document.querySelectorAll('.cell.current').forEach(c => c.classList.remove('current')); div.classList.add('current'); div.scrollIntoView({ block: 'nearest' }); });
  input.addEventListener('keydown', e => {
    if (e.key !== 'Enter') return;
    e.preventDefault();
    const inputs = [...document.querySelectorAll('input.value')];
    const at = inputs.indexOf(input);
    if (e.shiftKey) { if (at > 0) inputs[at - 1].focus(); return; }
    const v = input.value.trim();
    if (v !== '' && !isNumber(v)) { input.classList.add('invalid'); return; }
    state[it.key] = { value: v, done: true }; div.classList.add('done'); persist(); updateProgress();
    if (at + 1 < inputs.length) inputs[at + 1].focus();
  });
  left.appendChild(input);
  div.appendChild(left);
  const ctx = document.createElement('div'); ctx.className = 'ctx';
  const page = document.createElement('img'); page.src = it.context_image; page.alt = 'page around the cell';
  const mark = document.createElement('div'); mark.className = 'mark';
  mark.style.left = it.mark[0] + '%'; mark.style.top = it.mark[1] + '%'; mark.style.width = it.mark[2] + '%'; mark.style.height = it.mark[3] + '%';
  ctx.appendChild(page); ctx.appendChild(mark);
  div.appendChild(ctx);
  return div;
}
function render() {
  const page = $('page').value, column = $('column').value;
  const shown = items.filter(it => (!page || it.page === page) && (!column || it.col === column));
  if ($('sort').value === 'confidence') shown.sort((a, b) => a.confidence - b.confidence || a.order - b.order);
  else shown.sort((a, b) => a.order - b.order);
  const list = $('list'); list.innerHTML = '';
  shown.forEach(it => list.appendChild(card(it)));
  updateProgress();
  const first = document.querySelector('.cell:not(.done) input.value') || document.querySelector('input.value');
  if (first) first.focus();
}
const quote = v => /[",\n\r]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v;
function correctionsCSV() {
  const lines = ['run_id,transcription_sha256,page,row,column,reading,value'];
  items.forEach(it => {
    const s = state[it.key];
    if (!s || !s.done || s.value === '') return;
    lines.push([DATA.run_id, DATA.transcription_sha256, it.page, String(it.row), String(it.column), it.reading, s.value].map(quote).join(','));
  });
  return lines.join('\n') + '\n';
}
$('save').addEventListener('click', () => {
  const link = $('download');
  if (link.href) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(new Blob([correctionsCSV()], { type: 'text/csv' }));
  link.download = 'corrections.csv';
  link.click();
});
['sort', 'page', 'column'].forEach(id => $(id).addEventListener('change', render));
render();
</script>
</body>
</html>
"""#
}
