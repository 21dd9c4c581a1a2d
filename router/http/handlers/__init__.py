"""One module per resource of the API: parse the request, call the domain, render the answer."""
