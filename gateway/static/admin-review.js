// admin-review.js: loaded after the page's own script (which starts the page on DOMContentLoaded);
// it may add tabs (TABS, LOADERS), texts (T.zh, T.en) and sections of its own.
