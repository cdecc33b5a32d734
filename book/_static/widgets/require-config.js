// The widget manager locates its icon fonts relative to its AMD module's address, which
// RequireJS resolves against the page's folder by default; point it at the copy in _static.
require.config({ baseUrl: (document.documentElement.dataset.content_root || "") + "_static/widgets/" });
