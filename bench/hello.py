"""A bare endpoint on the same stack (FastAPI under uvicorn, one worker): the floor Carnet's figures compare to."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/hello")
def hello() -> dict[str, str]:
    return {"hello": "world"}
