"""One page of a query's results, in the envelope every list endpoint answers with."""
from sqlalchemy import func, select

from server.extensions import db


def paginate(query, page, per_page, *order_by):
    """{items, page, per_page, total} for page `page` of the ordered query."""
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    items = db.session.scalars(
        query.order_by(*order_by).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return {"items": items, "page": page, "per_page": per_page, "total": total}
