"""Document storage (文档存储): one BlobStore interface, fs and S3 backends, a documents table.

Import ``propgroup.storage.models`` (or ``service``) to add the ``documents`` table to the tenant
metadata; the blob stores themselves need no database.
"""
