"""The API's requests as the service reads them, and the OpenAPI document that describes them."""
