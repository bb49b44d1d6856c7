// "Copy URL" buttons: the clipboard when allowed, else select the field for Ctrl-C.
document.addEventListener("click", async function (event) {
  const button = event.target.closest("button.copy");
  if (!button) return;
  try {
    await navigator.clipboard.writeText(button.dataset.copy);
    button.textContent = "Copied";
  } catch (e) {
    const field = button.parentElement.querySelector("input");
    field.focus(); field.select();
  }
});
