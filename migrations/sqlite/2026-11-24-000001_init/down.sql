DROP TABLE data_version;
DROP TABLE assets;
DROP TABLE categories;
