// The ipywidgets HTML manager (1.0.6) typesets Output widgets through MathJax 2's API,
// MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]); the book loads MathJax 3.
// Translate that one call, once MathJax 3 has replaced its configuration object.
document.addEventListener("DOMContentLoaded", function () {
  if (window.MathJax && !window.MathJax.Hub) {
    window.MathJax.Hub = {
      Queue: function (job) {
        var element = job && job[2];
        if (window.MathJax.typesetPromise) {
          window.MathJax.typesetPromise(element ? [element] : undefined);
        }
      },
    };
  }
});
