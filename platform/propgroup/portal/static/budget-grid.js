/* The budget grid (budgets/_grid.html): Enter and the arrow keys move between cells as in a
   spreadsheet (Tab works as everywhere); a refused save still shows its messages beside the
   lines, and marks the cells they name. htmx does the requests; no framework. */
(function () {
  "use strict";

  function move(field, rows, cols) {
    const grid = field.closest("[data-grid]");
    const row = Number(field.dataset.row) + rows;
    const col = Number(field.dataset.col) + cols;
    const next = grid.querySelector('[data-row="' + row + '"][data-col="' + col + '"]');
    if (!next) return false;
    next.focus();
    if (next.select) next.select();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    const field = event.target;
    if (!field.closest || !field.closest("[data-grid]") || field.dataset.col === undefined) return;
    const text = field.tagName === "INPUT";
    if (event.key === "Enter") {
      event.preventDefault(); // never the form's implicit submission
      move(field, event.shiftKey ? -1 : 1, 0);
      return;
    }
    if (!text) return; // a select keeps its own arrow keys
    const atStart = field.selectionStart === 0 && field.selectionEnd === 0;
    const atEnd = field.selectionStart === field.value.length;
    const steps = {
      ArrowDown: [1, 0],
      ArrowUp: [-1, 0],
      ArrowLeft: atStart ? [0, -1] : null,
      ArrowRight: atEnd ? [0, 1] : null,
    }[event.key];
    if (steps && move(field, steps[0], steps[1])) event.preventDefault();
  });

  // htmx leaves 4xx answers unswapped; the grid's carry the messages to show.
  document.addEventListener("htmx:beforeSwap", function (event) {
    const status = event.detail.xhr.status;
    if (status >= 400 && status < 500 && event.detail.elt.closest("[data-grid], #grid")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  function markInvalid() {
    document.querySelectorAll("[data-grid] .messages[data-line]").forEach(function (box) {
      const invalid = (box.dataset.invalid || "").split(" ");
      const row = document.querySelector('tr.line[data-line="' + CSS.escape(box.dataset.line) + '"]');
      if (!row) return;
      row.querySelectorAll("[data-save]").forEach(function (field) {
        if (invalid.includes(field.name)) field.setAttribute("aria-invalid", "true");
        else field.removeAttribute("aria-invalid");
      });
    });
  }
  document.addEventListener("htmx:afterSettle", markInvalid);
  document.addEventListener("htmx:oobAfterSwap", markInvalid);
})();
