"""Built-in connectors. Each sub-package is one plug-in registered under the
entry-point group ``policyengine.connectors`` (see ``policyengine.connector``)."""
