DROP TABLE area_set;
DROP TABLE areas;
