"""The model catalog and everything that reads or checks it.

``model`` (the loaded catalog: :class:`Catalog`, :class:`Model`, :class:`Offer`,
:func:`load_catalog`), ``terms`` (its vocabulary), ``rules`` (the slow-path checks), ``resolve``
(friendly name -> Bedrock id), ``admission``, ``request_rules``, ``check`` (against AWS), ``sync``
and ``overlay`` (what Bedrock's control plane says). The data sits beside the code:
``catalog.json``, ``catalog.schema.json``, ``overlay.schema.json``.

The names of ``model`` are re-exported here, so ``from runtime.catalog import load_catalog``
works; ``model`` imports only the standard library.
"""

from runtime.catalog.model import CATALOG_PATH as CATALOG_PATH
from runtime.catalog.model import Catalog as Catalog
from runtime.catalog.model import Lifecycle as Lifecycle
from runtime.catalog.model import Model as Model
from runtime.catalog.model import Offer as Offer
from runtime.catalog.model import RequestRules as RequestRules
from runtime.catalog.model import is_region_name as is_region_name
from runtime.catalog.model import load_catalog as load_catalog
from runtime.catalog.model import normalize_name as normalize_name
from runtime.catalog.model import overlay_path as overlay_path
from runtime.catalog.model import validate as validate
