// The choose-cameras page: one box ticks or clears every camera offered.
document.addEventListener('DOMContentLoaded', () => {
  const all = document.getElementById('all-cameras');
  if (!all) return;
  const boxes = () => Array.from(document.querySelectorAll('input[name=cameras]'));
  all.addEventListener('change', () => boxes().forEach((b) => { b.checked = all.checked; }));
  document.addEventListener('change', (event) => {
    if (event.target.name === 'cameras') all.checked = boxes().every((b) => b.checked);
  });
});
