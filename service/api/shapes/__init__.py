"""The typed bodies, queries and replies of the API's handlers, one module per handler
module (:mod:`service.api.contract` says how they are used)."""
