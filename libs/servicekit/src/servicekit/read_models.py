"""Reading another service's declared read model (`contracts.read_models`), and only that.

Every read projects exactly the model's fields and validates each document against the model's
type, so a renamed or retyped field is a `ReadModelError` naming the model and the document,
never a silent zero. Document ids are named in the error; field values never are (contacts are
personal data).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, TypeVar

from pydantic import ValidationError
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from contracts.read_models import Document as ReadDocument
from contracts.read_models import ReadModel
from servicekit.mongo import Document, find_all

D = TypeVar("D", bound=ReadDocument)
Query = Mapping[str, Any]


class ReadModelError(ValueError):
    """A stored document does not match the read model its reader relies on."""


def _collection(db: AsyncDatabase[Document], model: ReadModel[Any]) -> AsyncCollection[Document]:
    return db.get_collection(model.collection)


def checked(model: ReadModel[D], doc: Document) -> D:
    """`doc` as the model's typed document, or a `ReadModelError` saying which fields differ."""
    try:
        return model.document.model_validate(doc)
    except ValidationError as exc:
        fields = sorted({".".join(map(str, e["loc"])) for e in exc.errors()})
        raise ReadModelError(
            f"{model.label}: document {doc.get('_id')!r} of {model.owner}'s "
            f"`{model.collection}` does not match at {', '.join(fields)}"
        ) from None


async def documents(
    db: AsyncDatabase[Document], model: ReadModel[Any], query: Query | None = None
) -> list[Document]:
    """The matching documents as stored (projected to the model, each validated against it)."""
    found = await find_all(_collection(db, model), dict(query or {}), model.projection())
    for doc in found:
        checked(model, doc)
    return found


async def read(
    db: AsyncDatabase[Document], model: ReadModel[D], query: Query | None = None
) -> list[D]:
    """The matching documents, typed (one reply)."""
    found = await find_all(_collection(db, model), dict(query or {}), model.projection())
    return [checked(model, doc) for doc in found]


async def stream(
    db: AsyncDatabase[Document],
    model: ReadModel[Any],
    query: Query | None = None,
    *,
    batch_size: int = 2000,
    check: bool = True,
) -> AsyncIterator[Document]:
    """The matching documents as stored, for reads too large to hold; validated one by one
    unless the reader counts what it cannot read itself (`check=False`)."""
    cursor = _collection(db, model).find(
        dict(query or {}), model.projection(), batch_size=batch_size
    )
    async for doc in cursor:
        if check:
            checked(model, doc)
        yield doc


async def count(
    db: AsyncDatabase[Document], model: ReadModel[Any], query: Query | None = None
) -> int:
    """How many documents of the model match (counted by the server)."""
    return await _collection(db, model).count_documents(dict(query or {}))


async def tally(db: AsyncDatabase[Document], model: ReadModel[Any], field: str) -> dict[str, int]:
    """Documents per value of one of the model's fields (grouped by the server)."""
    if field not in model.projection():
        raise ReadModelError(f"{model.label} has no field {field!r}")
    grouped = [{"$group": {"_id": f"${field}", "n": {"$sum": 1}}}]
    rows = await (await _collection(db, model).aggregate(grouped)).to_list(None)
    return {str(row["_id"]): int(row["n"]) for row in rows}
