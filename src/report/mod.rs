//! Renderers: findings in, bytes out. They decide nothing.
