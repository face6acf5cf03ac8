"""AWS credentials for Bedrock: ``keys`` (:class:`Credentials`, read from the SOPS file or the
environment), ``api_key`` (short-term Bedrock API keys), ``assume_role`` (the invoke role) and
``secrets_pull`` (fetch the deployed key into the SOPS file).

:class:`Credentials` is re-exported here, so ``from runtime.credentials import Credentials`` works.
"""

from runtime.credentials.keys import Credentials as Credentials
from runtime.credentials.keys import RefreshingCredentials as RefreshingCredentials
