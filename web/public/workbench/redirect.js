// /workbench/ is where the wall's case card links ("/workbench/#/cases/{id}"); the page is
// /workbench.html. Keep the query (language) and the route (hash).
location.replace('/workbench.html' + location.search + location.hash);
