"""The typed request and reply bodies of the API, by handler module (see
:mod:`service.api.contract`): what a route takes and answers, in one place."""
