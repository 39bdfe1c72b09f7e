"""The KTRDR REST/JSON edge: Envoy configuration, API keys and OpenAPI, generated from protos/."""
