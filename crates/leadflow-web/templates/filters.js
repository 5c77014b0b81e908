// The dashboard's only script (hand-written): a changed choice in the filter form applies
// at once. Without it, the Apply button does the same.
document.querySelectorAll("form.filters select").forEach(function (select) {
  select.addEventListener("change", function () {
    select.form.submit();
  });
});
