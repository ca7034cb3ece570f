// /mobile/ is the address a grid worker types; the app's page is /mobile.html. Keep the
// query (language) and the route (hash).
location.replace('/mobile.html' + location.search + location.hash);
